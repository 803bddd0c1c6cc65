"""What a merge lets a person pick, field by field, and the value each record offers.

A choice names a *part* of the record (``name`` covers first, last and full name; ``address`` the five
address fields), so the survivor never ends up with the street of one record and the city of another.
Custom field values are picked per key (``custom.<key>``). Email addresses, phone numbers and tags are
not picked: the survivor keeps them all; ``email`` and ``phone`` choose which address and number are
primary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..models import Company, Contact

CUSTOM_PREFIX = "custom."
ADDRESS = ("street", "city", "region", "postal_code", "country")


@dataclass(frozen=True)
class Part:
    key: str
    label: Any
    fields: tuple[str, ...]  # model field names; empty for a contact's primary email or phone


CONTACT_PARTS = (
    Part("name", _("Name"), ("first_name", "last_name", "full_name")),
    Part("title", _("Job title"), ("title",)),
    Part("company", _("Company"), ("company",)),
    Part("lifecycle_stage", _("Lifecycle stage"), ("lifecycle_stage",)),
    Part("source", _("Source"), ("source",)),
    Part("date_of_birth", _("Date of birth"), ("date_of_birth",)),
    Part("email", _("Primary email"), ()),
    Part("phone", _("Primary phone"), ()),
    Part("address", _("Address"), ADDRESS),
    Part("owner", _("Owner"), ("owner",)),
    Part("team", _("Team"), ("team",)),
)
COMPANY_PARTS = (
    Part("name", _("Name"), ("name",)),
    Part("industry", _("Industry"), ("industry",)),
    Part("size", _("Size"), ("size",)),
    Part("website", _("Website"), ("website",)),
    Part("domain", _("Domain"), ("domain",)),
    Part("phone", _("Phone"), ("phone",)),
    Part("description", _("Description"), ("description",)),
    Part("parent", _("Parent company"), ("parent",)),
    Part("address", _("Address"), ADDRESS),
    Part("owner", _("Owner"), ("owner",)),
    Part("team", _("Team"), ("team",)),
)
ENTITIES: dict[str, type[models.Model]] = {"contact": Contact, "company": Company}


def parts_of(model: type[models.Model]) -> tuple[Part, ...]:
    return CONTACT_PARTS if model is Contact else COMPANY_PARTS


def is_channel(model: type[models.Model], part: Part) -> bool:
    """A contact's primary email or phone: chosen among the addresses kept, not copied as a field."""
    return model is Contact and not part.fields


def raw_value(record: Any, part: Part) -> tuple[Any, ...]:
    """The part's stored values on ``record`` (ids for links), comparable between records."""
    if not part.fields:
        return (getattr(record, part.key),)
    return tuple(getattr(record, record._meta.get_field(name).attname) for name in part.fields)


def is_empty(values: tuple[Any, ...]) -> bool:
    return all(value in (None, "", [], {}) for value in values)


def custom_keys(records: Sequence[Any]) -> list[str]:
    keys: set[str] = set()
    for record in records:
        if isinstance(record.custom, dict):
            keys.update(str(key) for key in record.custom)
    return sorted(keys)


def has_custom(record: Any, key: str) -> bool:
    return isinstance(record.custom, dict) and record.custom.get(key) not in (None, "", [])


def default_choices(records: Sequence[Any], survivor: Any) -> dict[str, int]:
    """For each part, the record whose value is kept when the person picks nothing: the survivor's,
    unless it has none and another record has one (in the order given). A parent company inside the
    merge is never a default (it would make the survivor its own parent)."""
    model = type(survivor)
    ids = {record.pk for record in records}
    others = [record for record in records if record.pk != survivor.pk]
    choices: dict[str, int] = {}
    for part in parts_of(model):
        candidates = [survivor, *others]
        if part.key == "parent":
            candidates = [record for record in candidates if record.parent_id not in ids]
        chosen = next((record for record in candidates if not is_empty(raw_value(record, part))), None)
        choices[part.key] = (chosen or (candidates[0] if candidates else survivor)).pk
    for key in custom_keys(records):
        chosen = next((record for record in [survivor, *others] if has_custom(record, key)), survivor)
        choices[CUSTOM_PREFIX + key] = chosen.pk
    return choices


def choice_keys(records: Sequence[Any]) -> set[str]:
    model = type(records[0])
    return {part.key for part in parts_of(model)} | {CUSTOM_PREFIX + key for key in custom_keys(records)}
