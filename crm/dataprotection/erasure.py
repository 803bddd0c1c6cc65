"""Erasing a person: resumable steps over every module's declared rows.

The steps, in order, each recorded in ``state["step"]`` once finished:

1. ``suppress``: the person's email addresses go on the suppression list (keyed hashes) and an
   ``ErasureRecord`` is kept, before anything else, so a failure later cannot lose them;
2. ``collect``: the ids of every row about them (declarations, attached files), kept in the state so a
   resumed run still reaches rows found through data already erased (leads found by an address);
3. ``erase``: attached files deleted, then each declaration's rows deleted or anonymised in batches,
   each batch one transaction that also moves the cursor (``state["done"][key]``);
4. ``journal``: the journal's copies of their values replaced by nulls and marked ``erased``;
5. ``done``.

Every step can run again: a resumed run skips what is finished and repeats at most one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.models import Attachment, JournalEntry
from crm.core.privacy import ANONYMISE, DELETE, email_hash, erased_name, privacy

from . import gathering
from .backup import ledger as backup_ledger
from .models import ErasureRecord, PrivacyRequest, SuppressedEmail

STEPS = ("suppress", "collect", "erase", "journal", "done")
ATTACHMENTS = "core.attachment"

SaveState = Callable[[dict[str, Any]], None]
Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    return None


def step_reached(state: dict[str, Any]) -> str:
    return str(state.get("step") or STEPS[0])


def erase_subject(
    *,
    kind: str,
    subject_id: int,
    state: dict[str, Any],
    save_state: SaveState,
    progress: Progress = _no_progress,
    request: PrivacyRequest | None = None,
) -> dict[str, int]:
    """Erase the person ``kind``/``subject_id``, continuing from ``state``; returns counts per
    declaration (rows erased), attachments and journal entries scrubbed."""
    subject = gathering.subject_kind(kind)
    obj = gathering.subject_object(kind, subject_id)

    def finish(step: str) -> None:
        state["step"] = STEPS[STEPS.index(step) + 1]
        save_state(state)

    if step_reached(state) == "suppress":
        hashes = sorted({email_hash(email) for email in (subject.emails(obj) if obj is not None else [])})
        with transaction.atomic():
            suppress_hashes(hashes)
            record, _created = ErasureRecord.objects.get_or_create(
                subject_kind=kind, subject_id=subject_id, defaults={"request": request, "email_hashes": hashes}
            )
            if set(hashes) - set(record.email_hashes):
                record.email_hashes = sorted(set(record.email_hashes) | set(hashes))
                record.save(update_fields=["email_hashes"])
            # Also outside the database, beside the backups: restoring an older backup erases them again.
            backup_ledger.record_erasure(kind=kind, subject_id=subject_id, hashes=list(record.email_hashes))
            state["suppressed"] = len(hashes)
            finish("suppress")
    progress(5, _("Email addresses added to the suppression list."))

    if step_reached(state) == "collect":
        state["records"] = gathering.declared_ids(kind, obj, state.get("records"))
        state["attachments"] = gathering.attachment_ids(state["records"], state.get("attachments"))
        state.setdefault("done", {})
        finish("collect")
    progress(10, _("Records found."))

    if step_reached(state) == "erase":
        _erase_rows(state=state, save_state=save_state, progress=progress)
        finish("erase")

    if step_reached(state) == "journal":
        # The requests' own labels first: changing them journals the old name, which the scrub then reaches.
        PrivacyRequest.objects.filter(subject_kind=kind, subject_id=subject_id).update(subject_label=erased_name())
        state["journal"] = state.get("journal", 0) + scrub_journal(kind=kind, subject_id=subject_id, state=state)
        ErasureRecord.objects.filter(subject_kind=kind, subject_id=subject_id).update(erased_at=timezone.now())
        finish("journal")
    progress(100, _("Erased."))
    return counts(state)


def counts(state: dict[str, Any]) -> dict[str, int]:
    done = state.get("done", {})
    result = {key: int(value) for key, value in done.items()}
    result["journal_entries"] = int(state.get("journal", 0))
    result["suppressed_emails"] = int(state.get("suppressed", 0))
    return result


def suppress_hashes(hashes: list[str]) -> None:
    known = set(SuppressedEmail.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True))
    SuppressedEmail.objects.bulk_create(
        [SuppressedEmail(email_hash=h) for h in hashes if h not in known], ignore_conflicts=True
    )


def _plan(state: dict[str, Any]) -> list[tuple[str, str, list[int]]]:
    """(key, mode, ids) in erasure order: files first, the person's own record last."""
    plan = [(ATTACHMENTS, DELETE, list(state.get("attachments", [])))]
    records = state.get("records", {})
    for declaration in sorted(
        (d for key in records if (d := gathering.declaration(key)) is not None), key=lambda d: (d.order, d.key)
    ):
        plan.append((declaration.key, declaration.erase, list(records[declaration.key])))
    return plan


def _erase_rows(*, state: dict[str, Any], save_state: SaveState, progress: Progress) -> None:
    plan = _plan(state)
    total = sum(len(ids) for _key, mode, ids in plan if mode in (ANONYMISE, DELETE)) or 1
    finished = sum(min(int(state["done"].get(key, 0)), len(ids)) for key, _mode, ids in plan)
    for key, mode, ids in plan:
        if mode not in (ANONYMISE, DELETE):
            state["done"].setdefault(key, 0)
            continue
        start = int(state["done"].get(key, 0))
        for offset in range(start, len(ids), gathering.BATCH):
            batch = ids[offset : offset + gathering.BATCH]
            with transaction.atomic():
                _erase_batch(key, mode, batch)
                state["done"][key] = offset + len(batch)
                save_state(state)
            finished += len(batch)
            progress(
                10 + int(80 * finished / total),
                _("%(done)d of %(total)d records erased")
                % {
                    "done": finished,
                    "total": total,
                },
            )
        state["done"].setdefault(key, len(ids))


def _erase_batch(key: str, mode: str, batch: list[int]) -> None:
    if key == ATTACHMENTS:
        Attachment.objects.filter(pk__in=batch).delete()  # files leave storage when this commits
        return
    declaration = gathering.declaration(key)
    if declaration is None:
        return
    rows = declaration.model._default_manager.filter(pk__in=batch)
    if mode == DELETE:
        rows.delete()
        return
    values = declaration.anonymised_values()
    field_names = {f.name for f in declaration.model._meta.concrete_fields}
    if "version" in field_names:
        values["version"] = F("version") + 1  # an edit started before the erasure is refused as stale
    if "updated_at" in field_names:
        values["updated_at"] = timezone.now()
    rows.update(**values)


def _scrubbed(changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if isinstance(changes, dict):
        for name, value in changes.items():
            result[name] = [None, None] if isinstance(value, list) and len(value) == 2 else None
    result["erased"] = True
    return result


def scrub_journal(*, kind: str, subject_id: int, state: dict[str, Any]) -> int:
    """Replace the old and new values of every journal entry about the person's records with nulls,
    mark them ``erased``, and drop the names they carry. Entries already scrubbed are skipped."""
    subject = gathering.subject_kind(kind)
    records = dict(state.get("records", {}))
    request_ids = list(
        PrivacyRequest.objects.filter(subject_kind=kind, subject_id=subject_id).values_list("pk", flat=True)
    )
    queries = gathering.journal_queries(kind, subject_id, records, list(state.get("attachments", [])))
    if request_ids:
        from django.contrib.contenttypes.models import ContentType
        from django.db.models import Q

        request_type = ContentType.objects.get_for_model(PrivacyRequest)
        queries.append(Q(content_type=request_type, object_id__in=[str(pk) for pk in request_ids]))
    person_types = {subject.model._meta.label_lower, "sales.lead", "customers.contact"}
    name = erased_name()
    scrubbed = 0
    for entries in gathering.journal_entries(queries):
        pending = list(entries.exclude(changes__has_key="erased").select_related("content_type")[: gathering.BATCH])
        while pending:
            for entry in pending:
                entry.changes = _scrubbed(entry.changes)
                label = f"{entry.content_type.app_label}.{entry.content_type.model}"
                if label in person_types or label == "dataprotection.privacyrequest":
                    entry.object_repr = name
                else:
                    model = apps.get_model(label)
                    entry.object_repr = f"{model._meta.verbose_name} {entry.object_id}"[:200]
            JournalEntry.objects.bulk_update(pending, ["changes", "object_repr"])
            scrubbed += len(pending)
            pending = list(entries.exclude(changes__has_key="erased").select_related("content_type")[: gathering.BATCH])
    return scrubbed


def still_holds_data(kind: str, subject_id: int) -> bool:
    """Does an erased person have personal data again (a backup from before the erasure restored)?"""
    obj = gathering.subject_object(kind, subject_id)
    if obj is None:
        return False
    for declaration in privacy.declarations(kind):
        rows = declaration.find(obj)
        if declaration.erase == DELETE and rows.exists():
            return True
        if declaration.erase == ANONYMISE:
            values = declaration.anonymised_values()
            for row in rows.values(*values)[: gathering.BATCH]:
                if any(row[name] != value for name, value in values.items()):
                    return True
    return False
