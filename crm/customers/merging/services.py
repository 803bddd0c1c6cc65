"""Every write of duplicates and merges: dismissing a pair, starting a scan, merging records, undoing a merge.

A merge is one transaction: the actor must be allowed to edit and delete customers and must see every
record (otherwise 404), each record must still be at the version the person saw (otherwise a conflict),
the chosen values are copied onto the survivor, everything pointing at the other records moves to it
(``relations``), and the other records are deleted. A ``Merge`` row keeps what an undo (``undo.py``) needs:
the deleted records in full, the survivor's values before and after, and which rows moved.

History stays where it was written: the journal entries of a merged record keep its own id (the journal
is an append-only record of what happened and feeds backups and webhooks by sequence number; rewriting
it would falsify it). The survivor's timeline shows them instead, through the merge rows (see
``panels.py``), and the journal has the merge itself: the survivor's update, each deletion and the
``Merge`` row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.exceptions import ConflictError
from crm.core.models import Job
from crm.core.services import job_start
from crm.core.versioning import save_versioned

from ..choices import DuplicateStatus
from ..models import Contact, ContactEmail, ContactPhone, DuplicateCandidate, Merge
from . import relations
from .fields import CUSTOM_PREFIX, ENTITIES, choice_keys, default_choices, has_custom, is_channel, parts_of
from .undo import UNDO_DAYS, is_admin, may_undo, merge_undo, undo_refusal

__all__ = [
    "UNDO_DAYS",
    "company_merge",
    "contact_merge",
    "duplicate_dismiss",
    "duplicate_reopen",
    "duplicates_scan_start",
    "is_admin",
    "may_undo",
    "merge_undo",
    "records_merge",
    "undo_refusal",
]

MODULE = "customers"
MAX_RECORDS = 10
SNAPSHOT_FORMAT = 1


def _require(actor: Any, *actions: str) -> None:
    if not all(access.can(actor, MODULE, action) for action in actions):
        raise PermissionDenied


# --- duplicate pairs --------------------------------------------------------------------------------------


@transaction.atomic
def duplicate_dismiss(*, actor: Any, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """ "Not a duplicate": the pair leaves the list and later scans leave it dismissed."""
    return _resolve(actor, candidate, DuplicateStatus.DISMISSED)


@transaction.atomic
def duplicate_reopen(*, actor: Any, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """A pair dismissed by mistake goes back on the list."""
    return _resolve(actor, candidate, DuplicateStatus.OPEN)


def _resolve(actor: Any, candidate: DuplicateCandidate, status: str) -> DuplicateCandidate:
    _require(actor, "edit")
    open_again = status == DuplicateStatus.OPEN
    candidate.status = status
    candidate.resolved_at = None if open_again else timezone.now()
    candidate.resolved_by = None if open_again else actor
    candidate.save(update_fields=["status", "resolved_at", "resolved_by"])
    return candidate


@transaction.atomic
def duplicates_scan_start(*, actor: Any) -> Job:
    """Queue a scan of all data now (it also runs on a schedule); the job shows its progress."""
    from .tasks import DUPLICATES_SCAN, duplicates_scan_task

    _require(actor, "edit")
    return job_start(kind=DUPLICATES_SCAN, user=actor, task=duplicates_scan_task)


# --- merging ----------------------------------------------------------------------------------------------


def _clean_ids(ids: Any, survivor_id: Any) -> tuple[list[int], int]:
    if not isinstance(ids, (list, tuple)) or not all(
        isinstance(pk, int) and not isinstance(pk, bool) and pk > 0 for pk in ids
    ):
        raise ValidationError({"ids": _("Give the ids of the records to merge.")})
    if len(set(ids)) != len(ids):
        raise ValidationError({"ids": _("A record cannot be merged with itself: each id may appear once.")})
    if len(ids) < 2:
        raise ValidationError({"ids": _("Pick at least two records to merge.")})
    if len(ids) > MAX_RECORDS:
        raise ValidationError({"ids": _("At most %(count)d records can be merged at once.") % {"count": MAX_RECORDS}})
    if survivor_id not in ids:
        raise ValidationError({"survivor": _("The record to keep must be one of the records merged.")})
    return list(ids), survivor_id


def _clean_choices(choices: Mapping[str, Any] | None, records: Sequence[Any], survivor: Any) -> dict[str, int]:
    chosen = default_choices(records, survivor)
    if not choices:
        return chosen
    known, ids = choice_keys(records), {record.pk for record in records}
    errors = {}
    for key, value in choices.items():
        if key not in known:
            errors[key] = _("Unknown field: it cannot be chosen here.")
        elif not isinstance(value, int) or isinstance(value, bool) or value not in ids:
            errors[key] = _("Choose one of the records merged.")
        else:
            chosen[key] = value
    if errors:
        raise ValidationError({"choices": [f"{key}: {message}" for key, message in sorted(errors.items())]})
    return chosen


def _locked_records(actor: Any, model: type[models.Model], ids: list[int]) -> list[Any]:
    """The records, locked, in the order given; 404 when any is missing or outside the actor's scope."""
    found = {
        record.pk: record
        for record in model.objects.visible_to(actor, action="delete")  # type: ignore[attr-defined]
        .filter(pk__in=ids)
        .order_by("pk")
        .select_for_update()
    }
    if len(found) != len(ids):
        raise Http404
    return [found[pk] for pk in ids]


def _check_versions(records: Sequence[Any], versions: Mapping[int, int] | None) -> None:
    if versions is None:
        return
    missing = [record.pk for record in records if record.pk not in versions]
    if missing:
        raise ValidationError(
            {"versions": _("Send the version you saw of each record (missing: %(ids)s).") % {"ids": missing}}
        )
    for record in records:
        if record.version != versions[record.pk]:
            raise ConflictError(current=record)


@transaction.atomic
def records_merge(
    *,
    actor: Any,
    entity: str,
    ids: Sequence[int],
    survivor_id: int,
    choices: Mapping[str, Any] | None = None,
    versions: Mapping[int, int] | None = None,
) -> Merge:
    """Merge the records ``ids`` into ``survivor_id``, taking each part's value from the record named in
    ``choices`` (part key or ``custom.<key>`` -> record id; unnamed parts: see ``default_choices``).
    ``versions`` (record id -> version the person saw) refuses a merge of records changed meanwhile."""
    model = ENTITIES.get(entity)
    if model is None:
        raise ValidationError({"entity": _("Choose contacts or companies.")})
    _require(actor, "edit", "delete")
    record_ids, survivor_pk = _clean_ids(ids, survivor_id)
    records = _locked_records(actor, model, record_ids)
    _check_versions(records, versions)
    survivor = next(record for record in records if record.pk == survivor_pk)
    merged = [record for record in records if record.pk != survivor_pk]
    merged_ids = [record.pk for record in merged]
    chosen = _clean_choices(choices, records, survivor)

    snapshot: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "survivor": {"before": relations.row_values(survivor), "m2m": relations.m2m_values(survivor)},
        "merged": [{"fields": relations.row_values(r), "m2m": relations.m2m_values(r)} for r in merged],
        "names": {str(record.pk): str(record) for record in merged},
        "moved": [],
        "deleted": [],
        "many": [],
        "flags": [],
        "tags_added": {},
    }
    by_id = {record.pk: record for record in records}
    changed = _copy_parts(model, survivor, by_id, chosen)
    if model is Contact:
        latest = [r.last_contacted_at for r in records if r.last_contacted_at is not None]
        if latest and max(latest) != survivor.last_contacted_at:
            survivor.last_contacted_at = max(latest)
            changed.append("last_contacted_at")

    relations.move_candidates(entity=entity, merged_ids=merged_ids, survivor_id=survivor.pk, snapshot=snapshot)
    relations.move_rows(model=model, merged_ids=merged_ids, survivor_id=survivor.pk, snapshot=snapshot)
    if model is Contact:
        changed += _settle_channels(survivor, by_id, chosen, snapshot)
    else:
        _check_hierarchy(survivor)
    for field in model._meta.local_many_to_many:
        union = {pk for record in merged for pk in getattr(record, field.name).values_list("pk", flat=True)}
        added = sorted(union - set(snapshot["survivor"]["m2m"][field.name]))
        if added:
            getattr(survivor, field.name).add(*added)
        snapshot["tags_added"][field.name] = added

    expected = versions.get(survivor.pk) if versions is not None else None
    save_versioned(survivor, expected_version=expected, update_fields=sorted(set(changed)) or [])
    for record in _deletion_order(model, merged):
        try:
            record.delete()
        except ProtectedError:
            raise ValidationError(
                _("%(name)s is still used by records that cannot be moved; nothing was merged.") % {"name": record}
            ) from None
    survivor.refresh_from_db()
    snapshot["survivor"]["after"] = relations.row_values(survivor)
    return Merge.objects.create(
        entity=entity, survivor_id=survivor.pk, merged_ids=merged_ids, snapshot=snapshot, actor=actor
    )


def contact_merge(
    *,
    actor: Any,
    ids: Sequence[int],
    survivor_id: int,
    choices: Mapping[str, Any] | None = None,
    versions: Mapping[int, int] | None = None,
) -> Merge:
    return records_merge(
        actor=actor, entity="contact", ids=ids, survivor_id=survivor_id, choices=choices, versions=versions
    )


def company_merge(
    *,
    actor: Any,
    ids: Sequence[int],
    survivor_id: int,
    choices: Mapping[str, Any] | None = None,
    versions: Mapping[int, int] | None = None,
) -> Merge:
    return records_merge(
        actor=actor, entity="company", ids=ids, survivor_id=survivor_id, choices=choices, versions=versions
    )


def _deletion_order(model: type[models.Model], merged: list[Any]) -> list[Any]:
    """Merged records pointing at other merged records (a subsidiary and its parent) go first."""
    links = [f.attname for f in model._meta.concrete_fields if f.is_relation and f.related_model is model]
    remaining, ordered = list(merged), []
    while remaining:
        targets = {getattr(record, attname) for record in remaining for attname in links}
        ready = [record for record in remaining if record.pk not in targets] or remaining[:1]
        ordered += ready
        remaining = [record for record in remaining if record not in ready]
    return ordered


def _copy_parts(model: type[models.Model], survivor: Any, by_id: dict[int, Any], chosen: dict[str, int]) -> list[str]:
    """Copy each chosen part's values onto the survivor; the names of the fields that changed."""
    changed: list[str] = []
    ids = set(by_id)
    for part in parts_of(model):
        if is_channel(model, part):
            continue
        source = by_id[chosen[part.key]]
        for name in part.fields:
            column = relations.attname(model, name)
            value = getattr(source, column)
            if name == "parent" and value in ids:
                raise ValidationError(
                    {"parent": _("The parent company cannot be one of the companies merged: choose another.")}
                )
            if getattr(survivor, column) != value:
                setattr(survivor, column, value)
                changed.append(name)
    custom = dict(survivor.custom) if isinstance(survivor.custom, dict) else {}
    for key, source_id in chosen.items():
        if not key.startswith(CUSTOM_PREFIX):
            continue
        name = key.removeprefix(CUSTOM_PREFIX)
        source = by_id[source_id]
        if has_custom(source, name):
            custom[name] = source.custom[name]
        else:
            custom.pop(name, None)
    if custom != survivor.custom:
        survivor.custom = custom
        changed.append("custom")
    if model is Contact and {"first_name", "last_name", "full_name"} & set(changed):
        changed.append("name")
    return changed


def _settle_channels(
    survivor: Any, by_id: dict[int, Any], chosen: dict[str, int], snapshot: dict[str, Any]
) -> list[str]:
    """The survivor now holds every email address and phone number: the same one twice is kept once,
    and the chosen record's primary address and number are the primary ones."""
    changed = []
    for model, value_field, part_key in ((ContactEmail, "email", "email"), (ContactPhone, "number", "phone")):
        rows = sorted(
            model.objects.filter(contact=survivor),
            key=lambda row: (row.pk not in _own_rows(snapshot, model, survivor.pk), row.pk),
        )
        kept: dict[str, Any] = {}
        extra = []
        for row in rows:
            value = getattr(row, value_field)
            if value in kept:
                extra.append(row)
            else:
                kept[value] = row
        if extra:
            snapshot["deleted"].append(
                {"model": model._meta.label_lower, "rows": [relations.row_values(row) for row in extra]}
            )
            relations.rows(model).filter(pk__in=[row.pk for row in extra]).delete()
        primary = getattr(by_id[chosen[part_key]], part_key) or getattr(survivor, part_key)
        if primary not in kept:
            primary = next(iter(kept), "")
        flags = []
        for value, row in kept.items():
            wanted = value == primary
            if row.is_primary != wanted:
                flags.append([row.pk, row.is_primary])
                relations.rows(model).filter(pk=row.pk).update(is_primary=wanted)
        if flags:
            snapshot["flags"].append({"model": model._meta.label_lower, "field": "is_primary", "rows": flags})
        if getattr(survivor, part_key) != primary:
            setattr(survivor, part_key, primary)
            changed.append(part_key)
    return changed


def _own_rows(snapshot: dict[str, Any], model: type[models.Model], survivor_id: int) -> set[Any]:
    """Ids of the rows that belonged to the survivor before the merge (the ones moved in are listed)."""
    moved = {
        pk
        for entry in snapshot["moved"]
        if entry["model"] == model._meta.label_lower
        for pks in entry["rows"].values()
        for pk in pks
    }
    return set(relations.rows(model).filter(contact_id=survivor_id).exclude(pk__in=moved).values_list("pk", flat=True))


def _check_hierarchy(company: Any) -> None:
    seen = {company.pk}
    parent_id = company.parent_id
    while parent_id is not None:
        if parent_id in seen:
            raise ValidationError(
                {"parent": _("A company cannot be its own parent, directly or through others: choose another parent.")}
            )
        seen.add(parent_id)
        parent_id = type(company)._base_manager.filter(pk=parent_id).values_list("parent_id", flat=True).first()
