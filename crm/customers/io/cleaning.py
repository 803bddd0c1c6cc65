"""One imported row, checked and cleaned: each problem is a sentence for the rejected-rows file.

The checks are the model's own rules (lengths, choices, a name, valid addresses and numbers), done
here in bulk-friendly form instead of ``full_clean()`` on every row. Custom field cells (targets
``cf_<key>``) are checked by the same typed cleaner as the forms and the API; the field definitions
are read once per import.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _

from crm.core.exports import FORMULA_PREFIXES
from crm.core.middleware import has_bad_text

from ..choices import ChannelKind, ContactSource, CustomFieldKind, LifecycleStage
from ..custom_fields import selectors as custom_field_selectors
from ..custom_fields.values import clean_value
from ..models import Company, Contact
from ..models.contacts import compose_contact_name, validate_birth_date
from ..phones import normalize_phone
from .mapping import CUSTOM_PREFIX, NAME_TARGETS, TARGETS_BY_KEY

# The fields set on the contact itself, straight from a cell.
SCALAR_FIELDS = (
    "full_name",
    "first_name",
    "last_name",
    "title",
    "lifecycle_stage",
    "source",
    "date_of_birth",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
)
MULTILINE_FIELDS = {"street"}
_EMAIL_SPLIT = re.compile(r"[;,\s]+")
_PHONE_SPLIT = re.compile(r"[;,\n/]+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d.%m.%Y", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")
_COUNTRY_ALIASES = {"usa": "US", "u.s.a.": "US", "u.s.": "US", "uk": "GB", "prc": "CN", "中国大陆": "CN"}


@dataclass
class CleanRow:
    """A row ready to become (or update) a contact."""

    values: dict[str, Any]  # model field -> value, only for cells that were filled
    custom: dict[str, Any] = field(default_factory=dict)  # custom field key -> canonical value, filled cells only
    company: str = ""
    emails: list[tuple[str, str]] = field(default_factory=list)  # (address, kind)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (E.164 number, kind)

    @property
    def name(self) -> str:
        full = self.values.get("full_name", "")
        return compose_contact_name(full, self.values.get("first_name"), self.values.get("last_name"))


def unescape_formula(value: str) -> str:
    """Undo the apostrophe that a formula-safe export put before ``=``, ``+``, ``-``, ``@``."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _max_length(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


@lru_cache(maxsize=2)
def _choice_lookup(kind: str) -> dict[str, str]:
    """Normalised value or label (in every language) -> the stored value."""
    choices = {"lifecycle_stage": LifecycleStage, "source": ContactSource}[kind]
    lookup: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for value, label in choices.choices:
                lookup[fold_text(str(label))] = value
    for value in choices.values:
        lookup[fold_text(value)] = value
        lookup[fold_text(value.replace("_", " "))] = value
    return lookup


@lru_cache(maxsize=1)
def country_lookup() -> dict[str, str]:
    from babel import Locale

    lookup: dict[str, str] = {}
    for locale in ("en", "zh_Hans"):
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                lookup[fold_text(name)] = code
    lookup.update({fold_text(alias): code for alias, code in _COUNTRY_ALIASES.items()})
    return lookup


def fold_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class RowCleaner:
    """Checks rows against the contact's rules; build one per import (it caches its lookups)."""

    def __init__(self) -> None:
        self.lengths = {name: _max_length(Contact, name) for name in SCALAR_FIELDS if name != "date_of_birth"}
        self.company_length = _max_length(Company, "name")
        self.email_length = _max_length(Contact, "email")
        self.stages = _choice_lookup("lifecycle_stage")
        self.sources = _choice_lookup("source")
        self.custom = {
            f"{CUSTOM_PREFIX}{definition.key}": definition
            for definition in custom_field_selectors.active_definitions("contact")
        }

    def clean(self, values: dict[str, str]) -> tuple[CleanRow | None, list[str]]:
        """``values`` maps targets to raw cell text. Returns the clean row, or ``None`` and the problems."""
        problems: list[str] = []
        row = CleanRow(values={})
        for key, raw in values.items():
            value = unescape_formula(raw.strip())
            if not value:
                continue
            if has_bad_text(value):
                problems.append(_("%(field)s holds a NUL byte or an invalid character.") % {"field": _label(key)})
                continue
            if key in ("email", "email_other"):
                self._emails(value, str(ChannelKind.WORK if key == "email" else ChannelKind.OTHER), row, problems)
            elif key in ("mobile", "phone", "phone_other"):
                kind = {"mobile": ChannelKind.MOBILE, "phone": ChannelKind.WORK}.get(key, ChannelKind.OTHER)
                self._phones(value, str(kind), row, problems)
            elif key == "company":
                self._single_line(key, value, problems)
                if len(value) > self.company_length:
                    problems.append(_too_long(key, self.company_length))
                row.company = " ".join(value.split())
            elif key == "lifecycle_stage":
                self._choice(key, value, self.stages, row, problems)
            elif key == "source":
                self._choice(key, value, self.sources, row, problems)
            elif key == "date_of_birth":
                self._date(value, row, problems)
            elif key == "country":
                self._country(value, row, problems)
            elif key.startswith(CUSTOM_PREFIX):
                self._custom(key, value, row, problems)
            elif key in self.lengths:
                if key not in MULTILINE_FIELDS:
                    self._single_line(key, value, problems)
                if len(value) > self.lengths[key]:
                    problems.append(_too_long(key, self.lengths[key]))
                row.values[key] = value
        if not any(values.get(key, "").strip() for key in NAME_TARGETS):
            problems.insert(0, _("The row has no name (full name, or first and last name)."))
        if problems:
            return None, problems
        return row, []

    def _emails(self, value: str, kind: str, row: CleanRow, problems: list[str]) -> None:
        for address in _EMAIL_SPLIT.split(unicodedata.normalize("NFKC", value).lower()):
            if not address:
                continue
            try:
                if len(address) > self.email_length:
                    raise ValidationError("too long")
                validate_email(address)
            except ValidationError:
                problems.append(_("“%(value)s” is not a valid email address.") % {"value": address[:100]})
                continue
            if all(address != existing for existing, _kind in row.emails):
                row.emails.append((address, kind))

    def _phones(self, value: str, kind: str, row: CleanRow, problems: list[str]) -> None:
        for raw in _PHONE_SPLIT.split(unicodedata.normalize("NFKC", value)):
            raw = raw.strip()
            if not raw:
                continue
            try:
                number = normalize_phone(raw)
            except ValidationError as exc:
                problems.extend(exc.messages)
                continue
            if all(number != existing for existing, _kind in row.phones):
                row.phones.append((number, kind))

    def _choice(self, key: str, value: str, lookup: dict[str, str], row: CleanRow, problems: list[str]) -> None:
        found = lookup.get(fold_text(value))
        if found is None:
            problems.append(
                _("“%(value)s” is not a valid %(field)s.") % {"value": value[:100], "field": _label(key).lower()}
            )
        else:
            row.values[key] = found

    def _date(self, value: str, row: CleanRow, problems: list[str]) -> None:
        text = unicodedata.normalize("NFKC", value).strip()
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            try:
                validate_birth_date(parsed)
            except ValidationError:
                problems.append(_("The date of birth “%(value)s” is not a plausible date.") % {"value": text[:40]})
            else:
                row.values["date_of_birth"] = parsed
            return
        problems.append(_("“%(value)s” is not a date; write dates as YYYY-MM-DD.") % {"value": text[:40]})

    def _custom(self, key: str, value: str, row: CleanRow, problems: list[str]) -> None:
        definition = self.custom.get(key)
        if definition is None:
            problems.append(_("“%(value)s” is not a field that can be imported.") % {"value": key[:60]})
            return
        if definition.kind == CustomFieldKind.DATE:
            value = _iso_date(value)
        try:
            row.custom[definition.key] = clean_value(definition, value)
        except ValidationError as exc:
            problems.append(
                _("%(field)s: %(problem)s") % {"field": definition.label, "problem": " ".join(exc.messages)}
            )

    def _country(self, value: str, row: CleanRow, problems: list[str]) -> None:
        text = unicodedata.normalize("NFKC", value).strip()
        if len(text) == 2 and text.isascii() and text.isalpha():
            row.values["country"] = text.upper()
            return
        code = country_lookup().get(fold_text(text))
        if code is None:
            problems.append(_("“%(value)s” is not a country; use a two-letter code such as CN.") % {"value": text[:60]})
        else:
            row.values["country"] = code

    @staticmethod
    def _single_line(key: str, value: str, problems: list[str]) -> None:
        if "\n" in value or "\r" in value:
            problems.append(_("%(field)s holds a line break (is a closing quote missing?).") % {"field": _label(key)})


def _iso_date(text: str) -> str:
    """A date written in one of the usual ways (``2026/3/31``, ``31.03.2026``, ``2026年3月31日``) as
    ``YYYY-MM-DD``; the text itself when it is none of them."""
    text = unicodedata.normalize("NFKC", text).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def _label(key: str) -> str:
    target = TARGETS_BY_KEY.get(key)
    return str(target.label) if target else key


def _too_long(key: str, limit: int) -> str:
    return _("%(field)s is too long (at most %(limit)d characters).") % {"field": _label(key), "limit": limit}
