"""Inserting many new rows of a model at once from plain values: the write path of imports.

``QuerySet.bulk_create`` builds a model instance per row and compiles every value of every field
through the ORM; for an import of a hundred thousand rows that costs more than the checks and the
database together. ``insert_rows`` takes each row as a dict of values by attname, fills in what a
new instance would have (defaults, ``auto_now`` times), prepares only the values that need it
(encrypted fields, dates, JSON) with the fields' own ``get_db_prep_save``, and writes multi-row
``INSERT ... RETURNING`` statements, as many rows per statement as the engine takes parameters.
A journaled model's rows are written to the journal as created, as ``bulk_create`` does.

The new ids come back in the order of the rows, on the same assumption Django's ``bulk_create``
makes on both engines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

# Fields whose values reach the database as they are when they already have the Python type.
_PASSED = {
    models.CharField: str,
    models.EmailField: str,
    models.TextField: str,
    models.URLField: str,
    models.SlugField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.BooleanField: bool,
    models.ForeignKey: int,
}
MAX_ROWS_PER_STATEMENT = 500
# From this many rows on, PostgreSQL gets them by COPY (one more round trip than an INSERT, but no
# statement to parse per value); fewer go in an INSERT, as a single save's journal entry does.
COPY_FROM_ROWS = 50


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    labels: Sequence[str] | None = None,
    journaled: bool = True,
    using: str | None = None,
) -> list[int]:
    """Insert ``rows`` (field attname -> Python value; what is left out gets the field's default)
    and return their new ids, in order.

    ``labels`` are the rows' texts for the journal (``str()`` of an instance built from the row when
    not given); ``journaled=False`` leaves the journal out for rows whose parent's entry records them.
    """
    if not rows:
        return []
    from . import journal

    using = using or router.db_for_write(model)
    connection = connections[using]
    if not isinstance(model._meta.pk, models.AutoField) or model._meta.parents:
        raise ValueError(f"insert_rows takes models with an automatic id and no parent model, not {model.__name__}.")
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    columns = [str(f.column) for f in fields]
    now = timezone.now()
    # What a new instance would hold: a default that is a value is read once, a callable one (a
    # token, a dict) is called for each row that leaves it out; auto_now fields get the time of this
    # write whatever was given, as save() does.
    called = [f for f in fields if f.has_default() and callable(f.default) and not _automatic_time(f)]
    fixed = {f.attname: now if _automatic_time(f) else f.get_default() for f in fields if f not in called}
    forced = {f.attname: now for f in fields if getattr(f, "auto_now", False)}
    full_rows = [
        {**fixed, **{f.attname: f.get_default() for f in called if f.attname not in row}, **row, **forced}
        for row in rows
    ]

    preparers = [(f.attname, _PASSED.get(type(f)), f) for f in fields]
    pk = model._meta.pk
    assert pk is not None

    def prepared_row(row: Mapping[str, Any]) -> list[Any]:
        values = []
        for attname, passed, field in preparers:
            value = row[attname]
            values.append(
                value if value is None or type(value) is passed else field.get_db_prep_save(value, connection)
            )
        return values

    prepared = [prepared_row(row) for row in full_rows]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Ids taken from the table's sequence first, then the rows copied in with them.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(model._meta.db_table), pk.column, len(prepared)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            append_rows(
                connection,
                model._meta.db_table,
                [str(pk.column), *columns],
                [[pk_value, *values] for pk_value, values in zip(ids, prepared, strict=True)],
            )
        else:
            ids = _insert(connection, cursor, model._meta.db_table, columns, prepared, returning=str(pk.column))
        if journaled and journal.is_registered(model):
            if labels is None:
                labels = [
                    journal.record_text(model(pk=pk_value, **row)) for pk_value, row in zip(ids, full_rows, strict=True)
                ]
            journal.record_created_rows(model, ids, full_rows, list(labels), using=using)
    return ids


def append_rows(connection: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Add ``rows`` (values ready for the database, in the order of ``columns``) to ``table``:
    PostgreSQL's COPY for many rows, which takes them without parsing a statement per value (a JSON
    column takes JSON text as it is), or multi-row INSERTs."""
    if not rows:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS:
            names = ", ".join(quote(column) for column in columns)
            # The driver's own cursor (Django's has no COPY), its errors turned into Django's as usual.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        _insert(connection, cursor, table, columns, rows)


def _insert(
    connection: Any,
    cursor: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: str | None = None,
) -> list[Any]:
    """Multi-row INSERTs of ``rows``, as many per statement as the engine takes parameters; the
    ``returning`` column's values of the new rows, in order, when one is named."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    suffix = f" RETURNING {quote(returning)}" if returning else ""
    per_statement = _per_statement(connection, len(columns))
    returned: list[Any] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join([placeholder] * len(chunk))  # quoted names and placeholders only
        cursor.execute(
            f"INSERT INTO {quote(table)} ({names}) VALUES {values}{suffix}",  # noqa: S608
            [value for row in chunk for value in row],
        )
        if returning:
            returned.extend(row[0] for row in cursor.fetchall())
    return returned


def _per_statement(connection: Any, columns: int) -> int:
    return max(1, min(MAX_ROWS_PER_STATEMENT, _max_parameters(connection) // columns))


def _automatic_time(field: models.Field[Any, Any]) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _max_parameters(connection: Any) -> int:
    """How many parameters one statement may have: SQLite's own limit (often far above the 999
    Django assumes), none to speak of on PostgreSQL."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    limit = connection.features.max_query_params
    return int(limit) if limit else 65_535
