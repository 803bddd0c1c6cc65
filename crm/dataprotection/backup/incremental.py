"""What an incremental backup holds: the changes since the previous backup of its chain.

Journaled tables: every object with a journal entry the previous backup did not see (entries above
its position, or in the gaps of ids it recorded below it: PostgreSQL hands ids out before commit), and
every row whose ``updated_at`` moved in the safety window, re-read whole (a tombstone when it is gone);
their many-to-many rows with them; watched bookkeeping columns compared by hash. The journal's own
rows: the new ones, those sealed since, and those a privacy erasure blanked. The other tables as
``policies`` classifies them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType

from . import archive, catalogue, digests, policies
from .catalogue import Table
from .codec import INT, row_reader
from .dump import (
    FILE_COLUMNS,
    Progress,
    Result,
    Snapshot,
    Stream,
    all_rows,
    count,
    files_section,
    finish,
    keys_where,
    no_progress,
    rows_by_keys,
    table_end,
    table_start,
    write_rows,
)


@dataclass
class Previous:
    """What the incremental builds on: the previous backup of the chain."""

    position: int
    snapshot_at: dt.datetime
    seal_head: int
    log_max: dict[str, Any]
    digests: dict[str, digests.Digests]
    window: dt.timedelta
    gaps: list[list[int]] | None = None  # journal ids it did not see below its position


def _canonical_keys(snap: Snapshot, table: Table, keys: Iterable[Any]) -> list[Any]:
    read = row_reader(snap.vendor, [table.columns[table.pk_index]])
    return [read([k])[0] for k in keys]


def _parse_key(table: Table, object_id: str) -> Any:
    if table.pk_kind == INT:
        try:
            return int(object_id)
        except ValueError:
            return None
    return object_id


MAX_GAPS = 10_000


def journal_gaps(snap: Snapshot, window: dt.timedelta) -> list[list[int]] | None:
    """Ranges of journal ids missing below the position, back to the safety window: ids a transaction
    still running held (PostgreSQL hands ids out before commit), or that a rollback left unused. The
    next incremental reads the entries that appear there. ``None`` when there are too many to list."""
    journal = snap.quote("core_journalentry")
    since = snap.adapt_time(snap.started_at - window)
    low = int(snap.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {journal} WHERE timestamp < %s", [since]) or 0)  # noqa: S608
    with snap.connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {journal} WHERE id > %s ORDER BY id", [low])  # noqa: S608
        present = [row[0] for row in cursor.fetchall()]
    gaps: list[list[int]] = []
    expected = low + 1
    for value in [*present, snap.position + 1]:
        if value > expected:
            gaps.append([expected, value - 1])
            if len(gaps) > MAX_GAPS:
                return None
        expected = max(expected, value + 1)
    return gaps


def _new_entries(prev: Previous) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of journal entries the previous backup did not see:
    above its position, or in the gaps it recorded (without gaps: written in its safety window)."""
    if prev.gaps is None:
        return "id > %s OR timestamp >= %s", [prev.position, prev.snapshot_at - prev.window]
    clause = " OR ".join(["id > %s", *["id BETWEEN %s AND %s"] * len(prev.gaps)])
    return clause, [prev.position, *[bound for gap in prev.gaps for bound in gap]]


def journal_touched(snap: Snapshot, prev: Previous) -> dict[str, set[Any]]:
    """Keys of journaled rows with journal entries the previous backup did not see."""
    journal = snap.quote("core_journalentry")
    clause, params = _new_entries(prev)
    params = [snap.adapt_time(p) if isinstance(p, dt.datetime) else p for p in params]
    sql = f"SELECT DISTINCT content_type_id, object_id FROM {journal} WHERE {clause}"  # noqa: S608
    with snap.connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs = cursor.fetchall()
    tables = {t.label: t for t in catalogue.backed_up()}
    touched: dict[str, set[Any]] = {}
    for type_id, object_id in pairs:
        try:
            model = ContentType.objects.get_for_id(type_id).model_class()
        except ContentType.DoesNotExist:
            continue
        if model is None:
            continue
        for each in (model, *model._meta.get_parent_list()):
            table = tables.get(each._meta.label_lower)
            if table is None or table.policy.kind != policies.JOURNAL:
                continue
            key = _parse_key(table, object_id)
            if key is not None:
                touched.setdefault(table.name, set()).add(key)
    return touched


def _journal_keys(snap: Snapshot, table: Table, prev: Previous) -> list[Any]:
    """Journal entries to copy: the ones the previous backup did not see, those sealed since, and the
    older entries a privacy erasure blanked since (when one ran)."""
    clause, params = _new_entries(prev)
    params = [snap.adapt_time(p) if isinstance(p, dt.datetime) else p for p in params]
    keys = set(keys_where(snap, table, clause, params))
    if snap.seal_head > prev.seal_head:
        keys.update(keys_where(snap, table, "id > %s AND id <= %s", [prev.seal_head, snap.seal_head]))
    from crm.core.models import JournalEntry

    if JournalEntry.objects.filter(pk__gt=prev.position, changes__has_key="erased").exists():
        keys.update(
            JournalEntry.objects.filter(pk__lte=prev.position, changes__has_key="erased").values_list("pk", flat=True)
        )
    return sorted(keys)


class FullNeeded(RuntimeError):
    """An incremental cannot hold these changes (``policies.FULL_ON_CHANGE``): make a full backup."""


def incremental_keys(snap: Snapshot, prev: Previous, result: Result) -> dict[str, dict[str, Any]]:
    """Per table: what the incremental holds (``mode``, ``keys`` to copy, ``gone`` tombstones...)."""
    plan: dict[str, dict[str, Any]] = {}
    touched = journal_touched(snap, prev)
    for table in catalogue.backed_up():
        if table.label in policies.FULL_ON_CHANGE and touched.get(table.name):
            raise FullNeeded(policies.FULL_ON_CHANGE[table.label])
    since = prev.snapshot_at - prev.window
    tables = catalogue.backed_up()
    for table in tables:
        kind = table.policy.kind
        if kind == policies.JOURNAL:
            keys = set(touched.get(table.name, set()))
            if table.window_column:
                keys.update(
                    keys_where(snap, table, f"{snap.quote(table.window_column)} >= %s", [snap.adapt_time(since)])
                )
            if table.policy.watch:
                changed = _digest_changes(snap, table, prev, result)
                keys.update(changed)
            plan[table.name] = {"mode": "rows", "keys": sorted(keys, key=str)}
        elif kind == policies.JOURNAL_LOG:
            plan[table.name] = {"mode": "rows", "keys": _journal_keys(snap, table, prev)}
        elif kind == policies.LOG:
            last = prev.log_max.get(table.name, 0)
            condition, params = f"{snap.quote(table.pk)} > %s", [last]
            if table.policy.time_column:
                column = next(
                    f.column for f in table.model._meta.local_concrete_fields if f.name == table.policy.time_column
                )
                condition += f" OR {snap.quote(column)} >= %s"
                params.append(snap.adapt_time(since))
            low = snap.scalar(f"SELECT MIN({snap.quote(table.pk)}) FROM {snap.quote(table.name)}")  # noqa: S608
            plan[table.name] = {
                "mode": "rows",
                "keys": sorted(keys_where(snap, table, condition, params)),
                "purge": low,
            }
        elif kind == policies.DIFF:
            before = prev.digests.get(table.name)
            after = digests.scan(snap.connection, table, table.watched_columns())
            result.digests[table.name] = after
            if before is None:
                plan[table.name] = {"mode": "replace"}
                continue
            changed, gone = digests.changes(before, after)
            plan[table.name] = {"mode": "rows", "keys": changed, "gone": _canonical_keys(snap, table, gone)}
        elif kind == policies.WHOLE:
            plan[table.name] = {"mode": "replace"}
    for table in tables:
        if table.policy.kind == policies.FOLLOW:
            owner_table = _owner_table(table)
            owners = plan.get(owner_table, {}).get("keys", [])
            plan[table.name] = {"mode": "owner", "owners": list(owners)}
    return plan


def _owner_table(table: Table) -> str:
    for f in table.model._meta.local_concrete_fields:
        if f.column == table.policy.owner:
            return str(f.remote_field.model._meta.db_table)
    raise LookupError(table.name)


def _digest_changes(snap: Snapshot, table: Table, prev: Previous, result: Result) -> list[Any]:
    after = digests.scan(snap.connection, table, table.watched_columns())
    result.digests[table.name] = after
    before = prev.digests.get(table.name)
    if before is None:
        raise LookupError(f"no digest of {table.name} in the previous backup")
    changed, _gone = digests.changes(before, after)  # rows gone are journaled deletions
    return changed


def incremental(
    snap: Snapshot,
    header: dict[str, Any],
    plan: dict[str, dict[str, Any]],
    result: Result,
    progress: Progress = no_progress,
) -> Iterator[bytes]:
    """The stream of an incremental backup holding ``plan`` (``incremental_keys``)."""
    stream = Stream()
    stream.writer.json(archive.HEADER, header)
    tables = catalogue.backed_up()
    names: list[str] = []
    for index, table in enumerate(tables):
        progress(10 + int(70 * index / len(tables)), table.name)
        entry = plan.get(table.name, {"mode": "rows", "keys": []})
        mode = entry["mode"]
        table_start(stream, table, mode)
        reader = row_reader(snap.vendor, table.columns, formatted=True)
        files = names if table.name in FILE_COLUMNS else None
        gone: list[Any] = list(entry.get("gone", []))
        if mode == "replace":
            batches: Iterable[list[tuple[Any, ...]]] = all_rows(snap, table)
        elif mode == "owner":
            owners = entry["owners"]
            stream.writer.json(archive.OWNERS, {"column": table.policy.owner, "keys": owners})
            batches = rows_by_keys(snap, table, owners, column=table.policy.owner)
        else:
            keys = entry.get("keys", [])
            if entry.get("purge") is not None:
                stream.writer.json(archive.PURGE, {"below": entry["purge"]})
            found: set[Any] = set()
            batches = _collect(rows_by_keys(snap, table, keys), table.pk_index, found)
        checksum = yield from write_rows(stream, table, reader, batches, files)
        if mode == "rows" and table.policy.kind in (policies.JOURNAL, policies.JOURNAL_LOG):
            present = set(_canonical_keys(snap, table, found))
            gone.extend(k for k in _canonical_keys(snap, table, entry.get("keys", [])) if k not in present)
        if gone:
            stream.writer.json(archive.TOMBSTONES, gone)
        table_end(stream, checksum)
        result.tables[table.name] = {
            "mode": mode,
            "rows": checksum.count,
            "checksum": checksum.hex,
            "gone": len(gone),
            "count": count(snap, table),
        }
        yield from stream.take()
    yield from files_section(stream, names, result, progress)
    finish(snap, stream, result, progress)
    yield from stream.take()


def _collect(batches: Iterable[list[tuple[Any, ...]]], index: int, found: set[Any]) -> Iterator[list[tuple[Any, ...]]]:
    for rows in batches:
        found.update(row[index] for row in rows)
        yield rows
