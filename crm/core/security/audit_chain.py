"""The tamper-evident audit log: every journal entry is linked to the one before it by a hash chain.

``content_hash = SHA-256(canonical(entry))``, where ``canonical`` is a JSON array of the entry's own
fields (sequence, time, who, path, action, record type, record id, record, changes, request id) with
sorted keys, and ``entry_hash = SHA-256(prev_hash + "\\n" + content_hash)``, where ``prev_hash`` is the
``entry_hash`` of the entry before it (64 zeros for the first one).

A privacy erasure blanks the values a person's entries carry (``changes`` marked ``"erased": true``,
see crm.dataprotection): such an entry's content can no longer be checked against its
``content_hash``, but its place in the chain still is, so the erasure breaks nothing and every other
entry stays fully checked. :func:`verify` counts the erased entries it met.

Writing an entry stays one plain INSERT (``crm.core.journal._write``): the chain is computed
afterwards by :func:`seal`, which takes the entries after the last sealed one in id order, under a
lock, so several processes writing at once still give one straight chain. The worker seals every
minute and ``manage.py verify_audit_log`` seals before it checks.

On PostgreSQL a transaction still running may hold a lower id than an entry already committed. A
gap in the ids is therefore sealed over only once the entry after it is older than
``CRM_AUDIT_SEAL_GRACE_SECONDS`` (a rolled-back write leaves such a gap for good); on SQLite writes
take turns, so a gap is always final. An entry that appears below the sealed head afterwards is
reported as inserted.

:func:`verify` walks the chain and names the first broken link: an entry changed after sealing, an
entry deleted, moved or inserted, or sealed entries missing from the end. The chain proves the log
was not edited in the database after sealing; keep the head hash that the command prints somewhere
else too (a ticket, a log server), so that a rewrite of the whole chain would show as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..crypto import keyring
from ..models import JournalEntry, JournalSeal

GENESIS = "0" * 64
LOCK_KEY = 0x43524D41  # "CRMA": the PostgreSQL advisory lock of the sealing step
BATCH = 2000

_FIELDS = (
    "id",
    "timestamp",
    "actor_repr",
    "source",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "changes",
    "request_id",
)


def _type_label(content_type_id: int) -> str:
    content_type = ContentType.objects.get_for_id(content_type_id)
    return f"{content_type.app_label}.{content_type.model}"


def _key_independent(value: Any) -> Any:
    """Encrypted values as a keyed hash of their clear text, so that re-encrypting them with a new key
    (``rotate_keys``) leaves the entry's hash as it was, while a changed value still changes it."""
    if keyring.is_sealed(value):
        try:
            return "sealed:" + keyring.blind_index(keyring.open_sealed(value))
        except keyring.DecryptionError:
            return value  # altered or unreadable: hashed as stored, so the check fails
    if isinstance(value, list):
        return [_key_independent(v) for v in value]
    if isinstance(value, dict):
        return {k: _key_independent(v) for k, v in value.items()}
    return value


def canonical(row: dict[str, Any]) -> bytes:
    """The entry's own fields as bytes that read the same on every engine. ``actor_id`` is left out:
    it is set to null when a user is deleted; ``actor_repr`` keeps who it was."""
    timestamp = row["timestamp"]
    if isinstance(timestamp, dt.datetime):
        timestamp = timestamp.astimezone(dt.UTC).isoformat()
    changes = row["changes"]
    if isinstance(changes, str):  # a JSON column read without its decoder
        changes = json.loads(changes)
    changes = _key_independent(changes)
    values = [
        row["id"],
        timestamp,
        row["actor_repr"],
        row["source"],
        row["action"],
        _type_label(row["content_type_id"]),
        row["object_id"],
        row["object_repr"],
        changes,
        row["request_id"],
    ]
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def link_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + content.encode("ascii")).hexdigest()


def entry_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return link_hash(prev_hash, content_hash(row))


def _erased(row: dict[str, Any]) -> bool:
    changes = row["changes"]
    if isinstance(changes, str):
        changes = json.loads(changes)
    return isinstance(changes, dict) and changes.get("erased") is True


def _grace(vendor: str) -> dt.timedelta:
    if vendor == "sqlite":
        return dt.timedelta(0)
    return dt.timedelta(seconds=getattr(settings, "CRM_AUDIT_SEAL_GRACE_SECONDS", 300))


def _lock(using: str, *, wait: bool) -> bool:
    """The sealing lock for this transaction. On SQLite the write transaction itself is the lock."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return bool(cursor.fetchone()[0])


@dataclass
class SealResult:
    sealed: int = 0
    pending: int = 0  # entries after the head, left for a later run
    head_id: int = 0
    head_hash: str = ""
    busy: bool = False  # another process was sealing


def seal(*, wait: bool = True, batch: int = BATCH, now: dt.datetime | None = None) -> SealResult:
    """Link the entries written since the last run to the chain, in id order, in batches."""
    using = router.db_for_write(JournalEntry)
    vendor = connections[using].vendor
    result = SealResult()
    while True:
        with transaction.atomic(using=using):
            if not _lock(using, wait=wait):
                result.busy = True
                break
            state, _created = JournalSeal.objects.using(using).select_for_update().get_or_create(pk=1)
            cutoff = (now or timezone.now()) - _grace(vendor)
            rows = list(
                JournalEntry.objects.using(using).filter(id__gt=state.last_id).order_by("id").values(*_FIELDS)[:batch]
            )
            last_id, prev, stopped = state.last_id, state.last_hash or GENESIS, False
            updates = []
            for row in rows:
                if last_id and row["id"] != last_id + 1 and row["timestamp"] > cutoff:
                    stopped = True  # a lower id may still be in a running transaction
                    break
                content = content_hash(row)
                digest = link_hash(prev, content)
                updates.append(JournalEntry(id=row["id"], prev_hash=prev, entry_hash=digest, content_hash=content))
                last_id, prev = row["id"], digest
            if updates:
                JournalEntry.objects.using(using).bulk_update(
                    updates, ["prev_hash", "entry_hash", "content_hash"], batch_size=500
                )
                state.last_id, state.last_hash = last_id, prev
                state.sealed_count += len(updates)
                state.sealed_at = timezone.now()
                state.save(using=using)
                result.sealed += len(updates)
            result.head_id, result.head_hash = state.last_id, state.last_hash
        if stopped or len(rows) < batch or not updates:
            break
    result.pending = JournalEntry.objects.using(using).filter(id__gt=result.head_id).count()
    return result


@dataclass
class Problem:
    entry_id: int | None
    kind: str  # "changed", "link", "unsealed", "missing_tail"
    message: str


@dataclass
class VerifyResult:
    checked: int = 0
    erased: int = 0  # entries whose values a privacy erasure blanked: linked, their content not checkable
    unsealed: int = 0
    head_id: int = 0
    head_hash: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sealed_rows(using: str, head_id: int) -> Iterator[dict[str, Any]]:
    queryset = JournalEntry.objects.using(using).filter(id__lte=head_id).order_by("id")
    return queryset.values(*_FIELDS, "prev_hash", "entry_hash", "content_hash").iterator(chunk_size=BATCH)


def verify(*, stop_at_first: bool = True) -> VerifyResult:
    """Walk the chain from the first entry to the sealed head; report the first broken link (or all)."""
    using = router.db_for_read(JournalEntry)
    state = JournalSeal.objects.using(using).filter(pk=1).first()
    result = VerifyResult()
    head_id = state.last_id if state else 0
    result.head_id, result.head_hash = head_id, state.last_hash if state else ""
    prev = GENESIS
    last_seen = 0

    def report(entry_id: int | None, kind: str, message: str) -> bool:
        result.problems.append(Problem(entry_id, kind, message))
        return stop_at_first

    for row in _sealed_rows(using, head_id):
        result.checked += 1
        number = row["id"]
        if not row["entry_hash"]:
            if report(
                number,
                "unsealed",
                _("Entry #%(id)s is not in the chain although later entries are: it was inserted afterwards.")
                % {"id": number},
            ):
                return result
            continue
        erased = _erased(row)
        if erased:
            result.erased += 1
        content = row["content_hash"] if erased else content_hash(row)
        if (not erased and content != row["content_hash"]) or link_hash(row["prev_hash"], content) != row["entry_hash"]:
            if report(number, "changed", _("Entry #%(id)s was changed after it was sealed.") % {"id": number}):
                return result
        elif row["prev_hash"] != prev and report(
            number,
            "link",
            _("The chain is broken before entry #%(id)s: an entry was deleted, inserted or moved there.")
            % {"id": number},
        ):
            return result
        prev, last_seen = row["entry_hash"], number
    if state and state.last_hash and prev != state.last_hash:
        report(
            last_seen or None,
            "missing_tail",
            _("The chain ends at entry #%(last)s but was sealed up to #%(head)s: entries were deleted.")
            % {"last": last_seen, "head": head_id},
        )
    result.unsealed = JournalEntry.objects.using(using).filter(id__gt=head_id).count()
    return result
