"""Key rotation: re-encrypt every stored value (encrypted columns and the journal's encrypted copies)
under the primary key, in small batches, while the CRM keeps running.

Each batch is one short transaction; a row is rewritten only if it still holds the value that was
read (compare and swap), so an edit made meanwhile is never overwritten: it was sealed with the keys
of the moment and the next pass takes it if needed. :func:`count_by_key` tells when a key holds
nothing any more and can be retired.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, router, transaction

from . import keyfile, keyring
from .fields import INDEX_LENGTH

BATCH = 500
Progress = Callable[[str], None]


@dataclass
class RotationResult:
    primary: str = ""
    rewritten: Counter[str] = field(default_factory=Counter)  # "app.Model.field" or "journal" -> rows


def encrypted_columns() -> list[tuple[Any, Any]]:
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if getattr(f, "encrypted", False):
                found.append((model, f))
    return found


def json_columns_with_sealed_values() -> list[tuple[Any, Any]]:
    """JSON columns some of whose values are sealed tokens (``holds_sealed_values = True`` on the
    field: custom field values of fields marked sensitive)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        found += [(model, f) for f in model._meta.concrete_fields if getattr(f, "holds_sealed_values", False)]
    return found


def _json_rows(model: Any, f: Any) -> Iterator[list[tuple[Any, str, Any]]]:
    """Batches of (pk, stored JSON text, parsed value) of a JSON column's rows that hold a token."""
    for rows in _stored_rows(model, f):
        batch = []
        for pk, stored in rows:
            text = stored if isinstance(stored, str) else json.dumps(stored)
            if "enc1:" in text:
                batch.append((pk, stored, json.loads(text) if isinstance(stored, str) else stored))
        yield batch


def _place(model: Any, f: Any) -> tuple[str, Any, str, str, str]:
    """Where a column lives: its database alias and connection, and its table, key and own names quoted."""
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    return using, connection, quote(model._meta.db_table), quote(model._meta.pk.column), quote(f.column)


def _stored_rows(model: Any, f: Any) -> Iterator[list[tuple[Any, str]]]:
    """Batches of (pk, stored text) of the non-empty values of one column, in pk order (of a JSON
    column, the non-null ones: PostgreSQL cannot compare ``jsonb`` with ``''``)."""
    _using, connection, table, pk, column = _place(model, f)
    empty = "" if getattr(f, "holds_sealed_values", False) else f" AND {column} <> ''"
    last: Any = None
    while True:
        after = "" if last is None else f" AND {pk} > %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL{empty}{after} "  # noqa: S608
                f"ORDER BY {pk} LIMIT {BATCH}",
                [] if last is None else [last],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def _token(f: Any, stored: str) -> str:
    return stored[INDEX_LENGTH:] if f.blind_index else stored


def _reseal_tokens(value: Any, primary: str) -> tuple[Any, bool]:
    if keyring.is_sealed(value):
        if keyring.key_id(value) == primary:
            return value, False
        return keyring.seal(keyring.open_sealed(value)), True
    if isinstance(value, list):
        pairs = [_reseal_tokens(v, primary) for v in value]
        return [v for v, _c in pairs], any(c for _v, c in pairs)
    if isinstance(value, dict):
        items = {k: _reseal_tokens(v, primary) for k, v in value.items()}
        return {k: v for k, (v, _c) in items.items()}, any(c for _v, c in items.values())
    return value, False


def _journal_batches() -> Iterator[list[tuple[int, Any]]]:
    from ..models import JournalEntry

    last = 0
    while True:
        rows = list(JournalEntry.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "changes")[: BATCH * 4])
        if not rows:
            return
        last = rows[-1][0]
        yield [(pk, changes) for pk, changes in rows if "enc1:" in json.dumps(changes)]


def rotate(*, progress: Progress | None = None) -> RotationResult:
    """Re-encrypt under the current primary key every value sealed with another one."""
    from ..models import JournalEntry

    ring = keyring.load(force=True)
    result = RotationResult(primary=ring.primary)
    for model, f in encrypted_columns():
        label = f"{model._meta.label}.{f.name}"
        using, connection, table, pk, column = _place(model, f)
        for rows in _stored_rows(model, f):
            updates = []
            for row_pk, stored in rows:
                if keyring.key_id(_token(f, stored)) != ring.primary:
                    updates.append((f.seal_text(f.open_stored(stored)), row_pk, stored))
            if updates:
                with transaction.atomic(using=using), connection.cursor() as cursor:
                    sql = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s"  # noqa: S608
                    cursor.executemany(sql, updates)
                result.rewritten[label] += len(updates)
        if progress and result.rewritten[label]:
            progress(f"{label}: {result.rewritten[label]} re-encrypted")
    for model, f in json_columns_with_sealed_values():
        label = f"{model._meta.label}.{f.name}"
        using, connection, table, pk, column = _place(model, f)
        for batch in _json_rows(model, f):
            for row_pk, stored, value in batch:
                resealed, changed = _reseal_tokens(value, ring.primary)
                if not changed:
                    continue
                with transaction.atomic(using=using), connection.cursor() as cursor:
                    cursor.execute(f"SELECT {column} FROM {table} WHERE {pk} = %s", [row_pk])  # noqa: S608
                    current = cursor.fetchone()
                    if current is None or current[0] != stored:
                        continue  # edited meanwhile: sealed with the keys of that moment
                    cast = "::jsonb" if connection.vendor == "postgresql" else ""
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s{cast} WHERE {pk} = %s",  # noqa: S608
                        [json.dumps(resealed, ensure_ascii=False), row_pk],
                    )
                result.rewritten[label] += 1
        if progress and result.rewritten[label]:
            progress(f"{label}: {result.rewritten[label]} re-encrypted")
    for entries in _journal_batches():
        for entry_id, changes in entries:
            resealed, changed = _reseal_tokens(changes, ring.primary)
            if changed:
                # The entry's hash covers the clear values, not the key: the audit chain still holds.
                with transaction.atomic():
                    current = list(
                        JournalEntry.objects.select_for_update().filter(pk=entry_id).values_list("changes", flat=True)
                    )
                    if current == [changes]:  # not erased or re-encrypted meanwhile
                        JournalEntry.objects.filter(pk=entry_id).update(changes=resealed)
                        result.rewritten["journal"] += 1
    if progress and result.rewritten["journal"]:
        progress(f"journal: {result.rewritten['journal']} entries re-encrypted")
    return result


def count_by_key() -> Counter[str]:
    """How many stored values each key sealed (columns and journal entries)."""
    counts: Counter[str] = Counter()
    for model, f in encrypted_columns():
        for rows in _stored_rows(model, f):
            counts.update(keyring.key_id(_token(f, stored)) for _pk, stored in rows)
    for model, f in json_columns_with_sealed_values():
        for batch in _json_rows(model, f):
            for _pk, _stored, value in batch:
                counts.update(_token_keys(value))
    for entries in _journal_batches():
        for _pk, changes in entries:
            counts.update(_token_keys(changes))
    return counts


def _token_keys(value: Any) -> Iterator[str]:
    if keyring.is_sealed(value):
        yield keyring.key_id(value)
    elif isinstance(value, list):
        for v in value:
            yield from _token_keys(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _token_keys(v)


def key_file_path() -> Any:
    from pathlib import Path

    from django.conf import settings

    if keyring._settings()[0]:
        raise keyring.CryptoError(
            "The keys come from CRM_FIELD_KEYS: add the new key there as the primary one, restart the CRM, "
            "then run rotate_keys again to re-encrypt (it cannot change the environment)."
        )
    return Path(settings.CRM_KEY_FILE)


def add_primary_key() -> str:
    """A new key in the key file, made the primary one. Returns its id."""
    path = key_file_path()
    data, kid = keyfile.add_key(keyfile.read(path))
    keyfile.write(path, data)
    keyring.load(force=True)
    return kid


def retire_key(kid: str) -> None:
    """Remove ``kid`` from the key file: refused while it is the primary key or still seals a value."""
    path = key_file_path()
    data = keyfile.read(path)
    if kid not in data["keys"]:
        raise keyring.CryptoError(f"There is no key {kid!r} in {path}.")
    if kid == data["primary"]:
        raise keyring.CryptoError(f"{kid} is the primary key: add a new one first (rotate_keys --new-key).")
    left = count_by_key().get(kid, 0)
    if left:
        raise keyring.CryptoError(
            f"{left} stored values are still encrypted with {kid}: run rotate_keys again, then retire it."
        )
    keyfile.write(path, {**data, "keys": {k: v for k, v in data["keys"].items() if k != kid}})
    keyring.load(force=True)
