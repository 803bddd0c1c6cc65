"""Migrations that turn a clear column into an encrypted one (and back), in batches, with raw SQL:
the historical model's field would try to decrypt the clear values it reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import keyring
from .fields import INDEX_LENGTH

BATCH = 1000


def _is_stored_sealed(value: str, *, indexed: bool) -> bool:
    return keyring.is_sealed(value[INDEX_LENGTH:] if indexed else value)


def _rewrite(apps: Any, schema_editor: Any, label: str, names: tuple[str, ...], *, seal: bool) -> None:
    model = apps.get_model(label)
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    for name in names:
        field = model._meta.get_field(name)
        column = quote(field.column)
        last: Any = None
        while True:
            with connection.cursor() as cursor:
                after = "" if last is None else f" AND {pk} > %s"
                cursor.execute(
                    f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"  # noqa: S608
                    f"{after} ORDER BY {pk} LIMIT {BATCH}",
                    [] if last is None else [last],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                updates = []
                for row_pk, value in rows:
                    text = str(value)
                    sealed = _is_stored_sealed(text, indexed=field.blind_index)
                    if seal and not sealed:
                        updates.append((field.seal_text(text), row_pk))
                    elif not seal and sealed:
                        updates.append((field.open_stored(text), row_pk))
                if updates:
                    cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", updates)  # noqa: S608


def encrypt_columns(label: str, *names: str) -> tuple[Callable[..., None], Callable[..., None]]:
    """``RunPython(*encrypt_columns("customers.Contact", "phone", "street"))``: forwards seals the
    clear values of those columns, backwards opens them again."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, schema_editor, label, names, seal=True)

    def backwards(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, schema_editor, label, names, seal=False)

    return forwards, backwards
