"""Reading one consistent snapshot of the database into a backup stream.

The snapshot is one read transaction: on PostgreSQL ``REPEATABLE READ READ ONLY``; on SQLite a
deferred transaction, whose first read fixes what every later read sees (WAL mode lets writers go on
meanwhile). A full backup copies every row of every table (``catalogue.backed_up``) and every
attached file; ``incremental`` builds on the same pieces to copy what changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db.migrations.recorder import MigrationRecorder

from . import archive, catalogue, digests, policies
from .archive import Writer
from .catalogue import Table
from .codec import INT, Checksum, encode_row, row_reader, select_list

FETCH = 5_000
KEYS_PER_QUERY = 500
FILE_CHUNK = 1 << 20
# Tables whose rows name files kept in the default storage, and the column naming them.
FILE_COLUMNS = {"core_attachment": "file"}

Progress = Callable[[int, str], None]


def no_progress(percent: int, message: str = "") -> None:
    return None


@dataclass
class Snapshot:
    connection: Any
    started_at: dt.datetime
    position: int = 0  # the highest journal entry id visible
    seal_head: int = 0  # the last sealed journal entry id

    @property
    def vendor(self) -> str:
        return str(self.connection.vendor)

    def quote(self, name: str) -> str:
        return str(self.connection.ops.quote_name(name))

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            row = cursor.fetchone()
        return row[0] if row else None

    def adapt_time(self, value: dt.datetime) -> Any:
        return self.connection.ops.adapt_datetimefield_value(value)


@contextmanager
def snapshot(connection: Any) -> Iterator[Snapshot]:
    """One read transaction on ``connection`` (which must not be inside ``atomic``)."""
    from django.utils import timezone

    if connection.in_atomic_block:
        raise RuntimeError("A backup reads in a transaction of its own: run it outside atomic().")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SET LOCAL statement_timeout = 0")
        else:
            cursor.execute("BEGIN DEFERRED")
    try:
        snap = Snapshot(connection=connection, started_at=timezone.now())
        journal = snap.quote("core_journalentry")
        snap.position = int(snap.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {journal}") or 0)  # noqa: S608
        snap.seal_head = int(
            snap.scalar(f"SELECT COALESCE(MAX(last_id), 0) FROM {snap.quote('core_journalseal')}")  # noqa: S608
            or 0
        )
        yield snap
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


def schema(connection: Any) -> dict[str, list[str]]:
    """The migrations applied, per app."""
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def sequences(snap: Snapshot) -> dict[str, int]:
    """The last value each table's key sequence handed out (a restore never hands it out again)."""
    found: dict[str, int] = {}
    if snap.vendor == "postgresql":
        for table in catalogue.backed_up():
            if table.pk_kind != INT:
                continue
            name = snap.scalar("SELECT pg_get_serial_sequence(%s, %s)", [snap.quote(table.name), table.pk])
            if not name:
                continue
            value = snap.scalar(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {name}")  # noqa: S608
            if value:
                found[table.name] = int(value)
        return found
    if snap.scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"):
        with snap.connection.cursor() as cursor:
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            for name, seq in cursor.fetchall():
                if seq:
                    found[str(name)] = int(seq)
    return found


# --- reading rows -------------------------------------------------------------------------------------------


def _select(snap: Snapshot, table: Table) -> str:
    cols = select_list(snap.connection, table.columns)
    return f"SELECT {cols} FROM {snap.quote(table.name)}"  # noqa: S608 (quoted names from the models)


def all_rows(snap: Snapshot, table: Table) -> Iterator[list[tuple[Any, ...]]]:
    """Every row of ``table``, in batches (a server-side cursor on PostgreSQL)."""
    sql = _select(snap, table) + f" ORDER BY {snap.quote(table.pk)}"
    if snap.vendor == "postgresql":
        with snap.connection.connection.cursor(name=f"backup_{table.name}"[:60]) as cursor:
            cursor.itersize = FETCH
            cursor.execute(sql)
            while rows := cursor.fetchmany(FETCH):
                yield rows
        return
    with snap.connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH):
            yield rows


def rows_by_keys(
    snap: Snapshot, table: Table, keys: list[Any], column: str | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows whose ``column`` (the key by default) is one of ``keys``."""
    where = snap.quote(column or table.pk)
    for start in range(0, len(keys), KEYS_PER_QUERY):
        batch = keys[start : start + KEYS_PER_QUERY]
        marks = ", ".join(["%s"] * len(batch))
        sql = _select(snap, table) + f" WHERE {where} IN ({marks}) ORDER BY {snap.quote(table.pk)}"
        with snap.connection.cursor() as cursor:
            cursor.execute(sql, batch)
            rows = cursor.fetchall()
        if rows:
            yield rows


def keys_where(snap: Snapshot, table: Table, condition: str, params: list[Any]) -> list[Any]:
    sql = f"SELECT {snap.quote(table.pk)} FROM {snap.quote(table.name)} WHERE {condition}"  # noqa: S608
    with snap.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def count(snap: Snapshot, table: Table) -> int:
    return int(snap.scalar(f"SELECT COUNT(*) FROM {snap.quote(table.name)}") or 0)  # noqa: S608


# --- the stream ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    """What a dump found, for the manifest and for the next incremental."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    log_max: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, digests.Digests] = field(default_factory=dict)
    trailer: dict[str, Any] = field(default_factory=dict)


class Stream:
    """Frames into compressed chunks, handed out as the encryption asks for them."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.writer = Writer(self.pending.append)

    def take(self) -> list[bytes]:
        out = list(self.pending)
        self.pending.clear()
        return out


def write_rows(
    stream: Stream,
    table: Table,
    reader: Callable[[Any], list[Any]],
    batches: Iterable[list[tuple[Any, ...]]],
    files: list[str] | None = None,
) -> Generator[bytes, None, Checksum]:
    """Rows into ``R`` frames, yielding compressed chunks; returns the rows' checksum."""
    checksum = Checksum()
    file_index = table.column_names().index(FILE_COLUMNS[table.name]) if files is not None else -1
    for rows in batches:
        values = [reader(row) for row in rows]
        lines = [encode_row(v) for v in values]
        checksum.add_many(lines)
        stream.writer.rows(lines)
        if file_index >= 0 and files is not None:
            files.extend(v[file_index] for v in values if v[file_index])
        yield from stream.take()
    return checksum


def table_start(stream: Stream, table: Table, mode: str) -> None:
    stream.writer.json(
        archive.TABLE,
        {
            "table": table.name,
            "label": table.label,
            "pk": table.pk,
            "mode": mode,
            "columns": [c.as_json() for c in table.columns],
        },
    )


def table_end(stream: Stream, checksum: Checksum) -> Checksum:
    stream.writer.json(archive.TABLE_END, {"rows": checksum.count, "checksum": checksum.hex})
    return checksum


def files_section(stream: Stream, names: list[str], result: Result, progress: Progress) -> Iterator[bytes]:
    """Attached files, from the default storage, after the tables."""
    import hashlib

    for index, name in enumerate(sorted(set(names))):
        try:
            handle = default_storage.open(name, "rb")
        except (OSError, ValueError):
            result.missing_files.append(name)
            continue
        with handle:
            size = default_storage.size(name)
            stream.writer.json(archive.FILE, {"name": name, "size": size})
            digest = hashlib.sha256()
            written = 0
            while chunk := handle.read(FILE_CHUNK):
                digest.update(chunk)
                written += len(chunk)
                stream.writer.frame(archive.FILE_BYTES, chunk)
                yield from stream.take()
            stream.writer.json(archive.FILE_END, {"size": written, "sha256": digest.hexdigest()})
            result.files.append({"name": name, "size": written, "sha256": digest.hexdigest()})
        yield from stream.take()
        if index % 50 == 0:
            progress(85, f"{index + 1} / {len(names)} files")


def digest_tables() -> list[Table]:
    """Tables compared by hash: journaled tables with watched columns, and ``DIFF`` tables."""
    found = []
    for table in catalogue.backed_up():
        if table.policy.kind == policies.DIFF or (table.policy.kind == policies.JOURNAL and table.policy.watch):
            found.append(table)
    return found


def full(snap: Snapshot, header: dict[str, Any], result: Result, progress: Progress = no_progress) -> Iterator[bytes]:
    """The stream of a full backup."""
    stream = Stream()
    stream.writer.json(archive.HEADER, header)
    tables = catalogue.backed_up()
    names: list[str] = []
    for index, table in enumerate(tables):
        progress(5 + int(75 * index / len(tables)), table.name)
        table_start(stream, table, "all")
        reader = row_reader(snap.vendor, table.columns, formatted=True)
        files = names if table.name in FILE_COLUMNS else None
        checksum = yield from write_rows(stream, table, reader, all_rows(snap, table), files)
        table_end(stream, checksum)
        result.tables[table.name] = {
            "mode": "all",
            "rows": checksum.count,
            "checksum": checksum.hex,
            "count": checksum.count,
        }
        yield from stream.take()
    yield from files_section(stream, names, result, progress)
    finish(snap, stream, result, progress)
    yield from stream.take()


def finish(snap: Snapshot, stream: Stream, result: Result, progress: Progress) -> None:
    progress(88, "digests")
    for table in digest_tables():
        if table.name not in result.digests:
            result.digests[table.name] = digests.scan(snap.connection, table, table.watched_columns())
    for table in catalogue.backed_up():
        if table.policy.kind in (policies.LOG, policies.JOURNAL_LOG) and table.pk_kind == INT:
            result.log_max[table.name] = int(
                snap.scalar(f"SELECT COALESCE(MAX({snap.quote(table.pk)}), 0) FROM {snap.quote(table.name)}")  # noqa: S608
                or 0
            )
    result.sequences = sequences(snap)
    result.trailer = {
        "tables": result.tables,
        "files": result.files,
        "missing_files": result.missing_files,
        "sequences": result.sequences,
        "log_max": result.log_max,
    }
    stream.writer.json(archive.TRAILER, result.trailer)
    stream.writer.close()
