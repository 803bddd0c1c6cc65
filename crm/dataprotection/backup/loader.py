"""Writing a backup chain's rows into the target database, inside the restore's one transaction.

A full backup's tables are copied in (PostgreSQL: ``COPY``, with the table's plain indexes built
after the rows; SQLite: batched inserts). Each incremental is applied in two passes: first what goes
(tombstones, rows about to be replaced, purged log rows, replaced many-to-many rows), then the rows it
holds. Deleting a row for a tombstone repeats what the deletion did in the source database to rows
that pointed at it (``on_delete`` cascade and set null), since those changes are not in the journal.

The loader keeps, per table, the checksum the table must end with: the full backup's rows, minus
each row removed (as read back from the target before removing it), plus each row added. Once every
file is applied, ``verify`` reads every table back and compares counts and checksums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from . import archive, catalogue
from .archive import ArchiveError
from .codec import Checksum, Column, decode_rows, encode_row, row_reader, row_writer, select_list

KEYS_PER_QUERY = 500
INSERT_BATCH = 2_000
INDEX_REBUILD_ROWS = 20_000
MAX_DEPTH = 25

Progress = Callable[[int, str], None]


class VerificationError(RuntimeError):
    """The restored database does not match the backup's manifests."""


def _chunks(values: list[Any], size: int = KEYS_PER_QUERY) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Loader:
    def __init__(self, connection: Any, progress: Progress) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        self.progress = progress
        self.columns: dict[str, list[Column]] = {}  # per table, as the backup wrote them
        self.pk: dict[str, str] = {}
        self.expected: dict[str, Checksum] = {}
        self.catalogue = catalogue.by_name()

    # --- helpers ------------------------------------------------------------------------------------------

    def q(self, name: str) -> str:
        return str(self.connection.ops.quote_name(name))

    def _cursor(self) -> Any:
        return self.connection.cursor()

    def _select(self, table: str) -> str:
        return f"SELECT {select_list(self.connection, self.columns[table])} FROM {self.q(table)}"  # noqa: S608

    def _lines(self, table: str, rows: Iterable[tuple[Any, ...]]) -> list[bytes]:
        read = row_reader(self.vendor, self.columns[table], formatted=True)
        return [encode_row(read(row)) for row in rows]

    def _rows_where(self, table: str, column: str, keys: list[Any]) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        with self._cursor() as cursor:
            for batch in _chunks(keys):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(self._select(table) + f" WHERE {self.q(column)} IN ({marks})", batch)
                found.extend(cursor.fetchall())
        return found

    def _keys_where(self, table: str, condition: str = "", params: list[Any] | None = None) -> list[Any]:
        sql = f"SELECT {self.q(self.pk[table])} FROM {self.q(table)}"  # noqa: S608
        if condition:
            sql += f" WHERE {condition}"
        with self._cursor() as cursor:
            cursor.execute(sql, params or [])
            return [row[0] for row in cursor.fetchall()]

    def _canonical(self, table: str, keys: Iterable[Any]) -> list[Any]:
        column = next(c for c in self.columns[table] if c.name == self.pk[table])
        read = row_reader(self.vendor, [column])
        return [read([k])[0] for k in keys]

    # --- removing rows ---------------------------------------------------------------------------------------

    def delete(self, table: str, keys: list[Any], *, replay: bool, depth: int = 0) -> int:
        """Remove rows by key (subtracting them from the expected checksum); with ``replay``, first
        do to the rows pointing at them what their foreign keys' ``on_delete`` says."""
        if not keys or table not in self.columns:
            return 0
        pk = self.pk[table]
        removed = 0
        for batch in _chunks(keys):
            rows = self._rows_where(table, pk, batch)
            if not rows:
                continue
            present = [row[self._pk_index(table)] for row in rows]
            if replay:
                self._replay(table, present, depth)
            for line in self._lines(table, rows):
                self.expected[table].remove(line)
            marks = ", ".join(["%s"] * len(present))
            with self._cursor() as cursor:
                cursor.execute(f"DELETE FROM {self.q(table)} WHERE {self.q(pk)} IN ({marks})", present)  # noqa: S608
            removed += len(present)
        return removed

    def _pk_index(self, table: str) -> int:
        return [c.name for c in self.columns[table]].index(self.pk[table])

    def _replay(self, table: str, keys: list[Any], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise VerificationError(f"deletions cascade deeper than {MAX_DEPTH} tables from {table}")
        info = self.catalogue.get(table)
        if info is None:
            return
        for dependent in info.dependents:
            if dependent.table not in self.columns:
                continue
            if dependent.column not in {c.name for c in self.columns[dependent.table]}:
                continue
            if dependent.action == "cascade":
                doomed = [
                    row[self._pk_index(dependent.table)]
                    for row in self._rows_where(dependent.table, dependent.column, keys)
                ]
                self.delete(dependent.table, doomed, replay=True, depth=depth + 1)
            else:
                self._set_null(dependent.table, dependent.column, keys)

    def _set_null(self, table: str, column: str, keys: list[Any]) -> None:
        rows = self._rows_where(table, column, keys)
        if not rows:
            return
        for line in self._lines(table, rows):
            self.expected[table].remove(line)
        pks = [row[self._pk_index(table)] for row in rows]
        with self._cursor() as cursor:
            for batch in _chunks(pks):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"UPDATE {self.q(table)} SET {self.q(column)} = NULL WHERE {self.q(self.pk[table])} IN ({marks})",  # noqa: S608
                    batch,
                )
        for line in self._lines(table, self._rows_where(table, self.pk[table], pks)):
            self.expected[table].add(line)

    # --- adding rows -----------------------------------------------------------------------------------------

    def _insert_sqlite(self, table: str, lines: list[bytes]) -> None:
        columns = self.columns[table]
        write = row_writer(self.vendor, columns)
        names = ", ".join(self.q(c.name) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        with self._cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.q(table)} ({names}) VALUES ({marks})",  # noqa: S608
                [write(values) for values in decode_rows(b"\n".join(lines))],
            )

    def insert(self, table: str, lines: list[bytes]) -> None:
        if not lines:
            return
        if self.vendor == "postgresql":
            with self.copy(table) as put:
                put(b"\n".join(lines))
        else:
            for start in range(0, len(lines), INSERT_BATCH):
                self._insert_sqlite(table, lines[start : start + INSERT_BATCH])
        self.expected[table].add_many(lines)

    def copy(self, table: str) -> Any:
        """A ``COPY`` into ``table`` (PostgreSQL) taking ``R`` frames' payloads."""
        loader = self
        columns = self.columns[table]
        write = row_writer(self.vendor, columns)
        names = ", ".join(self.q(c.name) for c in columns)

        class _Copy:
            def __enter__(self) -> Callable[[bytes], None]:
                self.cursor = loader.connection.cursor()
                self.copy_cm = self.cursor.cursor.copy(f"COPY {loader.q(table)} ({names}) FROM STDIN")
                self.copy = self.copy_cm.__enter__()
                return self.put

            def put(self, payload: bytes) -> None:
                for values in decode_rows(payload):
                    self.copy.write_row(write(values))

            def __exit__(self, *exc: Any) -> None:
                try:
                    self.copy_cm.__exit__(*exc)
                finally:
                    self.cursor.close()

        return _Copy()

    # --- a full backup ---------------------------------------------------------------------------------------

    def load_full(self, stream: IO[bytes], trailer: dict[str, Any]) -> None:
        """Copy a full backup's tables in. On PostgreSQL the foreign keys are dropped for the copy and
        added back after it (checked in one pass each), as are the plain indexes of big tables."""
        foreign_keys = self._drop_foreign_keys() if self.vendor == "postgresql" else []
        indexes = self._load_full(stream, trailer)
        if foreign_keys or indexes:
            self.progress(72, "indexes and foreign keys")
            self._create_indexes(indexes)
            with self._cursor() as cursor:
                for table, name, definition in foreign_keys:
                    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {self.q(name)} {definition}")

    def _drop_foreign_keys(self) -> list[tuple[str, str, str]]:
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY 1, 2"
            )
            found = [(table, name, definition) for table, name, definition in cursor.fetchall()]
            for table, name, _definition in found:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {self.q(name)}")
        return found

    def _load_full(self, stream: IO[bytes], trailer: dict[str, Any]) -> list[tuple[str, str]]:
        total = max(1, len(trailer.get("tables", {})))
        done = 0
        current: str | None = None
        put: Callable[[bytes], None] | None = None
        copy_cm: Any = None
        indexes: list[tuple[str, str]] = []
        checksum = Checksum()
        pending: list[bytes] = []
        for tag, payload in archive.frames(stream):
            if tag == archive.TABLE:
                meta = archive.read_json(payload)
                current = meta["table"]
                self.columns[current] = [Column.from_json(c) for c in meta["columns"]]
                self.pk[current] = meta["pk"]
                self.expected[current] = Checksum()
                checksum = Checksum()
                rows = int(trailer["tables"].get(current, {}).get("rows", 0))
                self.progress(10 + int(60 * done / total), f"loading {current} ({rows} rows)")
                if self.vendor == "postgresql" and rows:
                    if rows >= INDEX_REBUILD_ROWS:
                        indexes.extend(self._drop_indexes(current))
                    copy_cm = self.copy(current)
                    put = copy_cm.__enter__()
            elif tag == archive.ROWS and current is not None:
                lines = payload.split(b"\n")
                checksum.add_many(lines)
                if put is not None:
                    put(payload)
                else:
                    pending.extend(lines)
                    if len(pending) >= INSERT_BATCH:
                        self._insert_sqlite(current, pending)
                        pending = []
            elif tag == archive.TABLE_END and current is not None:
                if pending:
                    self._insert_sqlite(current, pending)
                    pending = []
                if copy_cm is not None:
                    copy_cm.__exit__(None, None, None)
                    copy_cm = put = None
                end = archive.read_json(payload)
                if checksum.hex != end["checksum"] or checksum.count != end["rows"]:
                    raise ArchiveError(f"{current}: the rows do not match their checksum")
                self.expected[current] = checksum
                done += 1
                current = None
        return indexes

    def _drop_indexes(self, table: str) -> list[tuple[str, str]]:
        """Plain (non-constraint) indexes of a big table, dropped to be built once after the rows."""
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                "AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
                "AND c.conrelid = (quote_ident(i.schemaname) || '.' || quote_ident(i.tablename))::regclass)",
                [table],
            )
            found = [(name, definition) for name, definition in cursor.fetchall()]
            for name, _definition in found:
                cursor.execute(f"DROP INDEX {self.q(name)}")
        return found

    def _create_indexes(self, indexes: list[tuple[str, str]]) -> None:
        with self._cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)

    # --- an incremental backup -------------------------------------------------------------------------------

    def apply_incremental(self, path: Any, opener: Callable[[Any], IO[bytes]]) -> None:
        """Apply one incremental (read twice: what goes, then what comes)."""
        sections = self._sections(path, opener)
        for section in sections:
            table = section["table"]
            self._adopt(table, section)
            mode = section["mode"]
            if mode == "replace":
                existing = self._keys_where(table)
                incoming = set(self._canonical(table, section["keys"]))
                vanished = [
                    k for k, c in zip(existing, self._canonical(table, existing), strict=True) if c not in incoming
                ]
                kept = [k for k, c in zip(existing, self._canonical(table, existing), strict=True) if c in incoming]
                self.delete(table, vanished, replay=True)
                self.delete(table, kept, replay=False)
            elif mode == "owner":
                column, owners = section["owners"]
                doomed = (
                    [row[self._pk_index(table)] for row in self._rows_where(table, column, owners)] if owners else []
                )
                self.delete(table, doomed, replay=False)
            else:
                if section["purge"] is not None:
                    self.delete(
                        table,
                        self._keys_where(table, f"{self.q(self.pk[table])} < %s", [section["purge"]]),
                        replay=True,
                    )
                self.delete(table, section["gone"], replay=True)
                self.delete(table, section["keys"], replay=False)
        with opener(path) as stream:
            current = None
            for tag, payload in archive.frames(stream):
                if tag == archive.TABLE:
                    current = archive.read_json(payload)["table"]
                elif tag == archive.ROWS and current is not None:
                    self.insert(current, payload.split(b"\n"))

    def _adopt(self, table: str, section: dict[str, Any]) -> None:
        if table not in self.columns:
            self.columns[table] = section["columns"]
            self.pk[table] = section["pk"]
            self.expected[table] = Checksum()

    def _sections(self, path: Any, opener: Callable[[Any], IO[bytes]]) -> list[dict[str, Any]]:
        sections: list[dict[str, Any]] = []
        section: dict[str, Any] | None = None
        with opener(path) as stream:
            for tag, payload in archive.frames(stream):
                if tag == archive.TABLE:
                    meta = archive.read_json(payload)
                    columns = [Column.from_json(c) for c in meta["columns"]]
                    pk_index = [c.name for c in columns].index(meta["pk"])
                    section = {
                        "table": meta["table"],
                        "mode": meta["mode"],
                        "columns": columns,
                        "pk": meta["pk"],
                        "pk_index": pk_index,
                        "keys": [],
                        "gone": [],
                        "purge": None,
                        "owners": None,
                    }
                    sections.append(section)
                elif section is None:
                    continue
                elif tag == archive.ROWS:
                    section["keys"].extend(values[section["pk_index"]] for values in decode_rows(payload))
                elif tag == archive.TOMBSTONES:
                    section["gone"].extend(archive.read_json(payload))
                elif tag == archive.PURGE:
                    section["purge"] = archive.read_json(payload)["below"]
                elif tag == archive.OWNERS:
                    owners = archive.read_json(payload)
                    section["owners"] = (owners["column"], owners["keys"])
        return sections

    # --- checks ----------------------------------------------------------------------------------------------

    def verify(self, counts: dict[str, int]) -> dict[str, int]:
        """Read every table back: its row count must be the backup's, its checksum the expected one."""
        problems = []
        checked: dict[str, int] = {}
        total = max(1, len(self.columns))
        for index, (table, columns) in enumerate(sorted(self.columns.items())):
            self.progress(75 + int(15 * index / total), f"checking {table}")
            actual = Checksum()
            read = row_reader(self.vendor, columns, formatted=True)
            with self._cursor() as cursor:
                cursor.execute(self._select(table))
                while rows := cursor.fetchmany(5_000):
                    actual.add_many(encode_row(read(row)) for row in rows)
            expected = self.expected[table]
            if table in counts and actual.count != counts[table]:
                problems.append(f"{table}: {actual.count} rows, the backup says {counts[table]}")
            elif actual != expected:
                problems.append(f"{table}: the rows differ from the backup's ({actual.count} rows)")
            checked[table] = actual.count
        if problems:
            raise VerificationError("; ".join(problems[:10]))
        return checked

    def reset_sequences(self, recorded: dict[str, int]) -> None:
        """Keys handed out from now on come after both the backup's sequences and the rows loaded."""
        int_tables = [
            t for t, cols in self.columns.items() if next(c for c in cols if c.name == self.pk[t]).kind == "int"
        ]
        with self._cursor() as cursor:
            for table in int_tables:
                cursor.execute(f"SELECT COALESCE(MAX({self.q(self.pk[table])}), 0) FROM {self.q(table)}")  # noqa: S608
                value = max(int(cursor.fetchone()[0] or 0), int(recorded.get(table, 0)))
                if self.vendor == "postgresql":
                    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.q(table), self.pk[table]])
                    sequence = cursor.fetchone()[0]
                    if sequence:
                        cursor.execute("SELECT setval(%s, %s, %s)", [sequence, max(value, 1), value > 0])
                    continue
                if not value:
                    continue
                cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
                if not cursor.fetchone()[0]:
                    continue
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [value, table])
                if cursor.rowcount == 0:
                    cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, value])
