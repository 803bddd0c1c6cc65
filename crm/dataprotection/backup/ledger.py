"""The erasure ledger: who was erased, kept beside the backups, outside the database.

A backup made before a person was erased holds their data and no ``ErasureRecord`` of them. So each
erasure also writes a small file into the backup destination, ``erasure-ledger/<kind>-<id>.json``,
holding only the person's kind, id and the keyed hashes of their email addresses (no name, no
address). A restore merges the ledger into the restored database before it erases such people again
(``crm.dataprotection.services.reapply_erasures``). Every backup run also writes any erasure the
ledger is missing (an erasure whose process stopped before it wrote its file).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction

from . import destinations
from .destinations import Destination

logger = logging.getLogger(__name__)

PREFIX = destinations.LEDGER


def entry_name(kind: str, subject_id: int) -> str:
    return f"{PREFIX}{kind}-{int(subject_id)}.json"


def _entry(kind: str, subject_id: int, hashes: list[str]) -> dict[str, Any]:
    return {"subject_kind": str(kind), "subject_id": int(subject_id), "email_hashes": sorted(set(hashes))}


def write(destination: Destination, kind: str, subject_id: int, hashes: list[str]) -> None:
    entry = _entry(kind, subject_id, hashes)
    existing = read_entry(destination, entry_name(kind, subject_id))
    if existing is not None:
        entry["email_hashes"] = sorted(set(entry["email_hashes"]) | set(existing.get("email_hashes", [])))
        if existing == entry:
            return
    destination.put_text(entry_name(kind, subject_id), json.dumps(entry, sort_keys=True))


def read_entry(destination: Destination, name: str) -> dict[str, Any] | None:
    text = destination.read_text(name)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read(destination: Destination) -> list[dict[str, Any]]:
    """Every entry of the ledger."""
    entries = []
    for name in destination.list(PREFIX):
        entry = read_entry(destination, name)
        if entry and entry.get("subject_kind") and entry.get("subject_id") is not None:
            entries.append(_entry(entry["subject_kind"], entry["subject_id"], list(entry.get("email_hashes", []))))
    return entries


def record_erasure(*, kind: str, subject_id: int, hashes: list[str]) -> None:
    """Write a person's entry into the configured destination once the erasure's record commits
    (called by ``crm.dataprotection.erasure``). A failure is logged; the next backup writes it."""

    from ..models import BackupRecipient

    if not BackupRecipient.objects.exists():
        return  # backups are not set up: the first backup writes every erasure

    def write_now() -> None:
        try:
            from .engine import current_settings

            write(destinations.get(current_settings().destination), kind, subject_id, hashes)
        except Exception:
            logger.exception("The erasure ledger could not be written; the next backup will write it.")

    transaction.on_commit(write_now)


def sync(destination: Destination) -> int:
    """Write every ``ErasureRecord`` the ledger is missing; returns how many were written."""
    from ..models import ErasureRecord

    known = {(e["subject_kind"], e["subject_id"]): set(e["email_hashes"]) for e in read(destination)}
    written = 0
    for kind, subject_id, hashes in ErasureRecord.objects.values_list("subject_kind", "subject_id", "email_hashes"):
        have = known.get((kind, subject_id))
        if have is None or not set(hashes or []) <= have:
            write(destination, kind, subject_id, list(hashes or []))
            written += 1
    return written


def merge(entries: list[dict[str, Any]]) -> int:
    """Add the ledger's people to ``ErasureRecord`` (in the current database); returns how many were
    added or completed."""
    from ..models import ErasureRecord

    changed = 0
    for entry in entries:
        record, created = ErasureRecord.objects.get_or_create(
            subject_kind=entry["subject_kind"],
            subject_id=entry["subject_id"],
            defaults={"email_hashes": entry["email_hashes"]},
        )
        if created:
            changed += 1
            continue
        merged = sorted(set(record.email_hashes or []) | set(entry["email_hashes"]))
        if merged != sorted(record.email_hashes or []):
            record.email_hashes = merged
            record.save(update_fields=["email_hashes"])
            changed += 1
    return changed
