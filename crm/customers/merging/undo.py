"""Undoing a merge: the merged records come back with their ids and values, the rows that moved go back
to them, and the survivor gets its values back, in one transaction, journaled like any change.

An undo is for the person who merged or an administrator, within ``UNDO_DAYS``, once. It is refused
when it cannot be done safely: the survivor was deleted since, or a merged record's id is taken again.
A survivor value changed after the merge is kept (and named), as are rows moved on since.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.core import access
from crm.core.versioning import save_versioned

from ..models import Contact, Merge
from . import relations
from .fields import ENTITIES

MODULE = "customers"
UNDO_DAYS = 30


def is_admin(user: Any) -> bool:
    """Administrators (who manage users) may undo anybody's merge."""
    return bool(getattr(user, "is_superuser", False)) or access.can(user, "accounts", "edit")


def may_undo(*, actor: Any, merge: Merge) -> bool:
    """The person who merged, or an administrator, whose role still edits customers."""
    mine = merge.actor_id is not None and merge.actor_id == getattr(actor, "pk", None)
    return (mine or is_admin(actor)) and access.can(actor, MODULE, "edit")


def undo_refusal(*, merge: Merge) -> str | None:
    """Why ``merge`` cannot be undone any more, or ``None`` when it can."""
    if merge.undone_at is not None:
        return _("This merge was already undone.")
    if merge.created_at < timezone.now() - timedelta(days=UNDO_DAYS):
        return ngettext(
            "A merge can be undone for %(days)d day; this one is older.",
            "A merge can be undone for %(days)d days; this one is older.",
            UNDO_DAYS,
        ) % {"days": UNDO_DAYS}
    model = ENTITIES[merge.entity]
    if not model._base_manager.filter(pk=merge.survivor_id).exists():
        return _("The record the others were merged into has been deleted since, so the merge cannot be undone.")
    if model._base_manager.filter(pk__in=merge.merged_ids).exists():
        return _("A merged record exists again, so the merge cannot be undone.")
    return None


@transaction.atomic
def merge_undo(*, actor: Any, merge: Merge) -> Merge:
    """Recreate the merged records with their ids and values, move their rows back and restore the
    survivor's values. A survivor value changed since the merge is kept (listed in the snapshot's
    ``undo.kept``), as are rows moved on since."""
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if not may_undo(actor=actor, merge=merge):
        raise PermissionDenied(_("Only the person who merged these records, or an administrator, can undo the merge."))
    refusal = undo_refusal(merge=merge)
    if refusal is not None:
        raise ValidationError(refusal)
    model = ENTITIES[merge.entity]
    survivor: Any = model._base_manager.select_for_update().get(pk=merge.survivor_id)
    snapshot = merge.snapshot

    recreated = _recreate(model, snapshot["merged"])
    relations.restore_candidates(entity=merge.entity, snapshot=snapshot)
    missed = relations.restore_rows(model=model, survivor_id=survivor.pk, snapshot=snapshot)
    for entry in snapshot.get("flags", []):
        target = relations._model(entry["model"])
        if target is None:
            continue
        for pk, value in entry["rows"]:
            relations.rows(target).filter(pk=pk).update(**{entry["field"]: value})
    kept = _restore_survivor(model, survivor, snapshot["survivor"])
    for field_name, added in snapshot.get("tags_added", {}).items():
        if added:
            getattr(survivor, field_name).remove(*added)
    for record in recreated:
        values = next(item for item in snapshot["merged"] if item["fields"]["id"] == record.pk)
        for field_name, pks in values.get("m2m", {}).items():
            related: Any = model._meta.get_field(field_name).related_model
            getattr(record, field_name).set(related._base_manager.filter(pk__in=pks))

    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.snapshot = {**snapshot, "undo": {"kept": kept, "rows_not_moved_back": missed}}
    merge.save(update_fields=["undone_at", "undone_by", "snapshot"])
    return merge


def _recreate(model: type[models.Model], saved: list[dict[str, Any]]) -> list[Any]:
    """The merged records again, with their ids; links to rows deleted since are left empty. Links
    between the merged records themselves (a parent company) are set once all exist."""
    records, deferred = [], []
    for item in saved:
        values = dict(item["fields"])
        for field in model._meta.concrete_fields:
            if not field.is_relation or values.get(field.attname) is None:
                continue
            related: Any = field.related_model
            if related is model:
                deferred.append((values["id"], field.attname, values[field.attname]))
                values[field.attname] = None
            elif not related._base_manager.filter(pk=values[field.attname]).exists():
                if not field.null:
                    raise ValidationError(
                        _("A record the merged records were linked to is gone, so the merge cannot be undone.")
                    )
                values[field.attname] = None
        record = relations.row_from_values(model, values)
        created_at = record.created_at
        record.save(force_insert=True)
        # Saving a new row sets created_at to now; the record keeps its own (bookkeeping, not journaled).
        models.QuerySet(model=model).filter(pk=record.pk).update(created_at=created_at)
        records.append(record)
    for pk, attname, target in deferred:
        if model._base_manager.filter(pk=target).exists():
            relations.rows(model).filter(pk=pk).update(**{attname.removesuffix("_id"): target})
    return records


def _restore_survivor(model: type[models.Model], survivor: Any, saved: dict[str, Any]) -> list[str]:
    """Give back the survivor's values the merge changed, unless changed again since; those are kept
    and named in the result."""
    before, after = saved["before"], saved.get("after", {})
    current = relations.row_values(survivor)
    skipped = {"id", "version", "created_at", "updated_at"}
    restore, kept = [], []
    for field in model._meta.concrete_fields:
        name = field.attname
        if name in skipped or before.get(name) == after.get(name):
            continue
        if current.get(name) == after.get(name):
            value = before.get(name)
            setattr(survivor, name, None if value is None else field.to_python(value))
            restore.append(field.name)
        else:
            kept.append(field.name)
    if restore:
        if model is Contact and {"first_name", "last_name", "full_name"} & set(restore):
            restore.append("name")
        save_versioned(survivor, expected_version=None, update_fields=restore)
    return kept
