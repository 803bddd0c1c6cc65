"""Writes of custom field definitions: create, update, reorder, deactivate and reactivate, delete.

Only administrators manage them: the permission is that of the administration pages (users, teams
and roles, module ``accounts``). Every write is journaled (``CustomField`` is registered) and an edit
names the version it started from.

Marking a field sensitive (or no longer sensitive) encrypts (or decrypts) the values records already
hold, in batches, in the same transaction as the change of the definition: either both happen or
neither does.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.core import access
from crm.core.versioning import save_versioned

from ..choices import CustomFieldEntity, CustomFieldKind
from ..models import CustomField
from ..models.custom_fields import key_validator
from . import selectors
from .values import CHOICE_KINDS, clean_value, is_empty

ADMIN_MODULE = "accounts"
MAX_FIELDS = 100  # per record type
MAX_CHOICES = 200
CHOICE_MAX_LENGTH = 100
LABEL_MAX_LENGTH = 100
HELP_TEXT_MAX_LENGTH = 200
EDITABLE = ("label", "kind", "required", "default", "help_text", "choices", "position", "sensitive", "is_active")
RESEAL_BATCH = 500


def can_manage(user: Any, action: str = "edit") -> bool:
    """May ``user`` manage custom fields (``action``: view, create, edit, delete)?"""
    return access.can(user, ADMIN_MODULE, action)


def _require(actor: Any, action: str) -> None:
    if not can_manage(actor, action):
        raise PermissionDenied


# --- checks of a definition ------------------------------------------------------------------------------


def key_from_label(label: str) -> str:
    """``"Customer since"`` -> ``"customer_since"``; ``""`` when the label has no Latin letters."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    key = re.sub(r"^[0-9_]+", "", key)[:50].rstrip("_")
    return key


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise ValidationError({"key": _("Give the field a key (lower-case letters, digits and underscores).")})
    key = key.strip()
    try:
        key_validator(key)
    except ValidationError as exc:
        raise ValidationError({"key": exc.messages}) from None
    if "__" in key or key.endswith("_"):
        raise ValidationError({"key": _("A key cannot hold two underscores in a row or end with one.")})
    return key


def _check_choices(kind: str, choices: Any) -> list[str]:
    if kind not in CHOICE_KINDS:
        if choices not in (None, [], ()):
            raise ValidationError(
                {"choices": _("Only fields of the types “One choice” and “Several choices” have choices.")}
            )
        return []
    if not isinstance(choices, (list, tuple)) or not all(isinstance(item, str) for item in choices):
        raise ValidationError({"choices": _("Send the choices as a list of texts.")})
    cleaned: list[str] = []
    seen: dict[str, str] = {}
    for item in choices:
        text = " ".join(item.split())
        if not text:
            continue
        if len(text) > CHOICE_MAX_LENGTH:
            raise ValidationError(
                {
                    "choices": _("“%(choice)s…” is too long: a choice has at most %(limit)d characters.")
                    % {"choice": text[:30], "limit": CHOICE_MAX_LENGTH}
                }
            )
        if ";" in text or "；" in text:
            raise ValidationError(
                {
                    "choices": _("“%(choice)s” holds a semicolon, which separates several choices in files.")
                    % {"choice": text}
                }
            )
        folded = text.casefold()
        if folded in seen:
            raise ValidationError({"choices": _("“%(choice)s” is listed twice.") % {"choice": text}})
        seen[folded] = text
        cleaned.append(text)
    if not cleaned:
        raise ValidationError({"choices": _("Give at least one choice.")})
    if len(cleaned) > MAX_CHOICES:
        raise ValidationError({"choices": _("A field has at most %(limit)d choices.") % {"limit": MAX_CHOICES}})
    return cleaned


def _check_text(name: str, value: Any, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({name: _("Enter text.")})
    text = " ".join(value.split())
    if required and not text:
        raise ValidationError({name: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({name: _("Enter at most %(limit)d characters.") % {"limit": limit}})
    return text


def _validate(field: CustomField) -> None:
    """The definition's own rules, with every problem next to its input."""
    errors: dict[str, list[str]] = {}

    def check(name: str, run: Any) -> None:
        try:
            run()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key if key != "__all__" else name, []).extend(messages)

    def label() -> None:
        field.label = _check_text("label", field.label, LABEL_MAX_LENGTH, required=True)

    def help_text() -> None:
        field.help_text = _check_text("help_text", field.help_text, HELP_TEXT_MAX_LENGTH)

    def kind() -> None:
        if field.kind not in CustomFieldKind.values:
            raise ValidationError({"kind": _("Choose one of the types.")})

    def choices() -> None:
        field.choices = _check_choices(field.kind, field.choices)

    check("label", label)
    check("help_text", help_text)
    check("kind", kind)
    if "kind" not in errors:
        check("choices", choices)
    if not isinstance(field.required, bool):
        errors["required"] = [_("Choose yes or no.")]
    if not isinstance(field.is_active, bool):
        errors["is_active"] = [_("Choose yes or no.")]
    if not isinstance(field.sensitive, bool):
        errors["sensitive"] = [_("Choose yes or no.")]
    if not isinstance(field.position, int) or isinstance(field.position, bool) or not 0 <= field.position <= 32767:
        errors["position"] = [_("Enter a whole number from 0 to 32767.")]
    if "kind" not in errors and "choices" not in errors:
        if is_empty(field.default):
            field.default = None
        else:
            try:
                field.default = clean_value(field, field.default)
            except ValidationError as exc:
                errors["default"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)


# --- writes ------------------------------------------------------------------------------------------------


@transaction.atomic
def custom_field_create(
    *,
    actor: Any,
    entity: str,
    label: str,
    kind: str,
    key: str = "",
    required: bool = False,
    default: Any = None,
    help_text: str = "",
    choices: list[str] | None = None,
    position: int | None = None,
    sensitive: bool = False,
    is_active: bool = True,
) -> CustomField:
    _require(actor, "create")
    if entity not in CustomFieldEntity.values:
        raise ValidationError({"entity": _("Choose companies or contacts.")})
    errors: dict[str, list[str]] = {}
    if not (key or "").strip() and isinstance(label, str) and label.strip():
        key = key_from_label(label)
    try:
        key = _check_key(key)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if CustomField.objects.filter(entity=entity, key=key).exists():
            errors["key"] = [_("Another field of this record type has this key (perhaps an inactive one).")]
    existing = CustomField.objects.filter(entity=entity)
    if existing.count() >= MAX_FIELDS:
        raise ValidationError(
            _("There can be at most %(limit)d custom fields per record type.") % {"limit": MAX_FIELDS}
        )
    if position is None:
        last = existing.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else min(last + 1, 32767)
    field = CustomField(
        entity=entity,
        key=key,
        label=label,
        kind=kind,
        required=required,
        default=default,
        help_text=help_text,
        choices=list(choices or []),
        position=position,
        sensitive=sensitive,
        is_active=is_active,
    )
    try:
        _validate(field)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    field.full_clean()
    field.save()
    selectors.forget_definitions()
    return field


@transaction.atomic
def custom_field_update(*, actor: Any, field: CustomField, data: dict[str, Any], version: int | None) -> CustomField:
    """Change a definition. Its key and record type never change; its type only while no record holds
    a value; a choice still chosen somewhere cannot be removed."""
    _require(actor, "edit")
    errors: dict[str, list[str]] = {}
    if "key" in data and data["key"] != field.key:
        errors["key"] = [_("The key cannot be changed: files and programs use it.")]
    if "entity" in data and data["entity"] != field.entity:
        errors["entity"] = [_("The record type cannot be changed.")]
    unknown = set(data) - set(EDITABLE) - {"key", "entity"}
    for name in unknown:
        errors[name] = [_("Unknown field.")]
    if errors:
        raise ValidationError(errors)
    before_kind, before_choices, before_sensitive = field.kind, list(field.choices or []), field.sensitive
    changed = [name for name in EDITABLE if name in data]
    for name in changed:
        setattr(field, name, data[name])
    _validate(field)
    if field.kind != before_kind and selectors.records_with_value(definition=field).exists():
        raise ValidationError({"kind": _("The type cannot change while records hold values of this field.")})
    if field.kind == before_kind and field.kind in CHOICE_KINDS:
        for removed in [choice for choice in before_choices if choice not in field.choices]:
            # The values are still stored as the field was before this change (encrypted if sensitive).
            if selectors.records_with_choice(definition=field, choice=removed, sealed=before_sensitive).exists():
                raise ValidationError(
                    {
                        "choices": _("“%(choice)s” is still chosen on some records; change them first.")
                        % {"choice": removed}
                    }
                )
    save_versioned(field, expected_version=version, update_fields=[*changed, "choices", "default"])
    selectors.forget_definitions()
    if field.sensitive != before_sensitive:
        custom_values_reseal(definition=field)
    return field


def custom_values_reseal(*, definition: CustomField) -> int:
    """Store the values of ``definition`` the way its ``sensitive`` flag now asks (encrypted or in
    clear) on every record holding one, in batches of rows locked while they are rewritten; the number
    of records. The values themselves do not change: no journal entry, no new version."""
    model: Any = selectors.ENTITY_MODELS[definition.entity]
    field = model._meta.get_field("custom")
    holders = model._base_manager.filter(custom__has_key=definition.key).order_by("pk")
    done, last = 0, None
    with transaction.atomic():
        while True:
            batch = holders if last is None else holders.filter(pk__gt=last)
            rows = list(batch.select_for_update().values_list("pk", "custom")[:RESEAL_BATCH])
            if not rows:
                return done
            last = rows[-1][0]
            # Written by the base manager, past the journal: the clear values stay the same.
            updates = [model(pk=pk, custom=custom) for pk, custom in rows if isinstance(custom, dict)]
            model._base_manager.bulk_update(updates, [field.name], batch_size=RESEAL_BATCH)
            done += len(updates)


@transaction.atomic
def custom_field_set_active(*, actor: Any, field: CustomField, active: bool, version: int | None = None) -> CustomField:
    """Hide a field everywhere (its values are kept), or show it again."""
    _require(actor, "edit")
    if field.is_active != active:
        field.is_active = active
        save_versioned(field, expected_version=version, update_fields=["is_active"])
        selectors.forget_definitions()
    return field


@transaction.atomic
def custom_field_reorder(*, actor: Any, entity: str, ids: list[int]) -> list[CustomField]:
    """Put the fields of ``entity`` in the order of ``ids`` (fields not named keep their place after them)."""
    _require(actor, "edit")
    fields = list(selectors.definition_list(entity=entity))
    by_id = {field.pk: field for field in fields}
    unknown = [pk for pk in ids if pk not in by_id]
    if unknown or len(set(ids)) != len(ids):
        raise ValidationError({"ids": _("Name each field of this record type at most once.")})
    ordered = [by_id[pk] for pk in ids] + [field for field in fields if field.pk not in set(ids)]
    for position, field in enumerate(ordered):
        if field.position != position:
            field.position = position
            save_versioned(field, expected_version=None, update_fields=["position"])
    selectors.forget_definitions()
    return ordered


@transaction.atomic
def custom_field_move(*, actor: Any, field: CustomField, step: int) -> list[CustomField]:
    """Move a field one place up (``step=-1``) or down (``step=1``) among those of its record type."""
    ids = list(selectors.definition_list(entity=field.entity).values_list("pk", flat=True))
    index = ids.index(field.pk)
    target = max(0, min(len(ids) - 1, index + step))
    ids.insert(target, ids.pop(index))
    return custom_field_reorder(actor=actor, entity=field.entity, ids=ids)


@transaction.atomic
def custom_field_delete(*, actor: Any, field: CustomField) -> None:
    """Delete a field that no record holds a value of; otherwise it can only be deactivated."""
    _require(actor, "delete")
    holders = selectors.records_with_value(definition=field).count()
    if holders:
        raise ValidationError(
            ngettext(
                "%(count)d record holds a value of “%(label)s”: deactivate the field instead, which hides it "
                "and keeps the values.",
                "%(count)d records hold a value of “%(label)s”: deactivate the field instead, which hides it "
                "and keeps the values.",
                holders,
            )
            % {"count": holders, "label": field.label}
        )
    field.delete()
    selectors.forget_definitions()
