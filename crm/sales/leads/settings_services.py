"""Writes of the settings pages of leads: the assignment rules (add, edit, reorder, delete) and the
company-wide sales settings.

Only administrators change them: the permission is that of the administration pages (module
``accounts``), as for custom fields. Every write is journaled (``AssignmentRule`` and
``SalesSettings`` are registered) and an edit names the version it started from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.exceptions import ConflictError
from crm.core.versioning import save_versioned
from crm.customers.choices import CompanySize

from ..choices import AssignmentMethod, LeadSource
from ..models import AssignmentRule, SalesSettings
from .services import check_country

ADMIN_MODULE = "accounts"
RULE_FIELDS = (
    "name",
    "order",
    "is_active",
    "method",
    "team",
    "user",
    "countries",
    "regions",
    "industries",
    "company_sizes",
    "sources",
)
LIST_FIELDS = ("countries", "regions", "industries", "company_sizes", "sources")
MAX_LIST = 300
MAX_TEXT = 100
# The weight of the predicted score is set with the scoring rules (crm.sales.scoring), which rescore.
SETTINGS_FIELDS = ("fallback_owner", "lead_response_hours", "stale_deal_days")
MAX_RESPONSE_HOURS = 24 * 365
MAX_STALE_DAYS = 3650


def can_manage(user: Any, action: str = "edit") -> bool:
    """May ``user`` manage assignment rules and the sales settings (``action``: view, create, edit, delete)?"""
    return access.can(user, ADMIN_MODULE, action)


def _require(actor: Any, action: str) -> None:
    if not can_manage(actor, action):
        raise PermissionDenied


# --- assignment rules ------------------------------------------------------------------------------


def _clean_list(name: str, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").replace("\n", ",").split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Send a list of texts."))
    items = list(dict.fromkeys(item.strip() for item in value if item.strip()))
    if len(items) > MAX_LIST:
        raise ValidationError(_("At most %(count)d values.") % {"count": MAX_LIST})
    if any(len(item) > MAX_TEXT for item in items):
        raise ValidationError(_("Each value holds at most %(count)d characters.") % {"count": MAX_TEXT})
    if name == "countries":
        return [check_country(item) for item in items]
    if name == "company_sizes":
        wrong = [item for item in items if item not in CompanySize.values]
        if wrong:
            raise ValidationError(_("Unknown company size: %(values)s.") % {"values": ", ".join(wrong)})
    if name == "sources":
        wrong = [item for item in items if item not in LeadSource.values]
        if wrong:
            raise ValidationError(_("Unknown source: %(values)s.") % {"values": ", ".join(wrong)})
    return items


def _apply_rule(rule: AssignmentRule, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    errors: dict[str, list[Any]] = {}
    changed: list[str] = []
    for name, value in data.items():
        try:
            if name in LIST_FIELDS:
                value = _clean_list(name, value)
            elif name == "name":
                value = str(value or "").strip()
            elif name == "is_active":
                value = bool(value)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
            continue
        setattr(rule, name, value)
        changed.append(name)
    if not rule.name and "name" not in errors:
        errors["name"] = [_("Give the rule a name.")]
    if rule.method not in AssignmentMethod.values:
        errors.setdefault("method", []).append(_("Choose how the rule assigns leads."))
    elif rule.method == AssignmentMethod.USER:
        if rule.user is None:
            errors.setdefault("user", []).append(_("Choose the person who gets the leads."))
        elif not rule.user.is_active:
            errors.setdefault("user", []).append(_("Choose an active colleague."))
        if rule.team_id is not None:
            rule.team = None
            changed.append("team")
    else:
        if rule.team_id is None:
            errors.setdefault("team", []).append(_("Choose the team whose members get the leads."))
        if rule.user_id is not None:
            rule.user = None
            changed.append("user")
    try:
        rule.full_clean(exclude=[*errors, "team", "user", "last_assigned"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(changed))


@transaction.atomic
def assignment_rule_create(*, actor: Any, data: dict[str, Any]) -> AssignmentRule:
    """Add a rule, by default after the others."""
    _require(actor, "create")
    data = dict(data)
    rule = AssignmentRule()
    if data.get("order") in (None, ""):
        data.pop("order", None)
        highest = AssignmentRule.objects.aggregate(highest=Max("order"))["highest"]
        rule.order = 0 if highest is None else highest + 1
    _apply_rule(rule, data)
    rule.save()
    return rule


@transaction.atomic
def assignment_rule_update(
    *, actor: Any, rule: AssignmentRule, data: dict[str, Any], version: int | None
) -> AssignmentRule:
    _require(actor, "edit")
    fields = _apply_rule(rule, dict(data))
    if {"team", "method"} & set(fields):
        rule.last_assigned = None  # a new team (or way of choosing) starts its round from the beginning
        fields.append("last_assigned")
    save_versioned(rule, expected_version=version, update_fields=fields)
    return rule


@transaction.atomic
def assignment_rule_delete(*, actor: Any, rule: AssignmentRule) -> None:
    _require(actor, "delete")
    rule.delete()


@transaction.atomic
def assignment_rule_move(*, actor: Any, rule: AssignmentRule, step: int) -> None:
    """Move a rule one place up (``step`` -1) or down (+1); the orders are renumbered 0, 1, 2…"""
    _require(actor, "edit")
    rules = list(AssignmentRule.objects.select_for_update().order_by("order", "id"))
    index = next((i for i, row in enumerate(rules) if row.pk == rule.pk), None)
    if index is None:
        return
    target = max(0, min(len(rules) - 1, index + (1 if step > 0 else -1)))
    rules.insert(target, rules.pop(index))
    for position, row in enumerate(rules):
        if row.order != position:
            row.order = position
            save_versioned(row, expected_version=None, update_fields=["order"])


# --- sales settings --------------------------------------------------------------------------------


def _bounded(name: str, value: Any, highest: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: _("Enter a whole number.")}) from None
    if number < 0 or number > highest:
        raise ValidationError({name: _("Enter a number from 0 to %(highest)d.") % {"highest": highest}})
    return number


@transaction.atomic
def sales_settings_update(*, actor: Any, data: dict[str, Any], loaded_at: dt.datetime | None = None) -> SalesSettings:
    """Change the company's sales settings. ``loaded_at`` (when the editor read them: their
    ``updated_at``) refuses an edit made over someone else's newer change."""
    _require(actor, "edit")
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    settings = SalesSettings.objects.select_for_update().filter(pk=SalesSettings.load().pk).get()
    if loaded_at is not None and abs((settings.updated_at - loaded_at).total_seconds()) > 0.001:
        raise ConflictError(current=settings)
    errors: dict[str, list[Any]] = {}
    limits = {"lead_response_hours": MAX_RESPONSE_HOURS, "stale_deal_days": MAX_STALE_DAYS}
    for name, value in data.items():
        try:
            if name == "fallback_owner":
                if value is not None and not getattr(value, "is_active", False):
                    raise ValidationError({name: _("Choose an active colleague.")})
            else:
                value = _bounded(name, value, limits[name])
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        setattr(settings, name, value)
    if errors:
        raise ValidationError(errors)
    settings.full_clean()
    settings.save()
    return settings
