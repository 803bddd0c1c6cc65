"""Short per-row hashes that find the changes the journal does not show.

For a table with watched columns (``policies``), a backup stores, per row, its key and an 8-byte hash
of those columns (``BackupDigest``); the next incremental hashes the same columns again and copies the
rows whose hash changed or is new, and writes tombstones for the keys that vanished. PostgreSQL
computes the hashes itself (``hashtextextended`` of the row's text); SQLite rows are hashed here. The hashes are
only ever compared with hashes made on the same database, so the two ways never meet.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .catalogue import Table
from .codec import INT

FETCH = 50_000


@dataclass
class Digests:
    """Keys (sorted integers, or strings) and their hashes (one uint64 each)."""

    keys: Any  # numpy int64 array, or a list of strings
    hashes: Any  # numpy uint64 array

    @property
    def integer(self) -> bool:
        return isinstance(self.keys, np.ndarray)

    def __len__(self) -> int:
        return len(self.hashes)

    def dump(self) -> bytes:
        if self.integer:
            keys = np.asarray(self.keys, dtype=np.int64)
            deltas = np.diff(keys, prepend=np.int64(0))
            body = (
                b"I"
                + len(keys).to_bytes(8, "big")
                + deltas.astype("<i8").tobytes()
                + self.hashes.astype("<u8").tobytes()
            )
        else:
            text = json.dumps(list(self.keys)).encode("utf-8")
            body = b"S" + len(text).to_bytes(8, "big") + text + self.hashes.astype("<u8").tobytes()
        return zlib.compress(body, 1)

    @classmethod
    def load(cls, data: bytes) -> Digests:
        body = zlib.decompress(bytes(data))
        size = int.from_bytes(body[1:9], "big")
        if body[:1] == b"I":
            keys = np.cumsum(np.frombuffer(body[9 : 9 + 8 * size], dtype="<i8")).astype(np.int64)
            hashes = np.frombuffer(body[9 + 8 * size :], dtype="<u8").astype(np.uint64)
            return cls(keys=keys, hashes=hashes)
        keys_list = json.loads(body[9 : 9 + size].decode("utf-8"))
        hashes = np.frombuffer(body[9 + size :], dtype="<u8").astype(np.uint64)
        return cls(keys=keys_list, hashes=hashes)


def scan(connection: Any, table: Table, columns: list[str]) -> Digests:
    """Hash ``columns`` of every row of ``table`` (inside the caller's snapshot)."""
    quote = connection.ops.quote_name
    pk = quote(table.pk)
    name = quote(table.name)
    integer = table.pk_kind == INT
    if connection.vendor == "postgresql":
        # The server hashes each row's text (hashtextextended: 64 bits); rows come back in binary.
        row_text = f"ROW({', '.join(quote(c) for c in columns)})::text"
        sql = f"SELECT {pk}, hashtextextended({row_text}, 0) FROM {name}"  # noqa: S608 (quoted names)
        pairs: list[tuple[Any, int]] = []
        with connection.connection.cursor(name=f"digest_{table.name}"[:60], binary=integer) as cursor:
            cursor.itersize = FETCH
            cursor.execute(sql)
            while rows := cursor.fetchmany(FETCH):
                pairs.extend(rows)
        if integer:
            found = np.array(pairs, dtype=np.int64).reshape(-1, 2)
            found = found[np.argsort(found[:, 0], kind="stable")]
            return Digests(keys=found[:, 0].copy(), hashes=found[:, 1].view(np.uint64).copy())
        pairs.sort(key=lambda pair: str(pair[0]))
        return Digests(
            keys=[str(k) for k, _h in pairs], hashes=np.array([h for _k, h in pairs], dtype=np.int64).view(np.uint64)
        )
    cols = ", ".join(quote(c) for c in columns)
    sql = f"SELECT {pk}, {cols} FROM {name} ORDER BY {pk}"  # noqa: S608 (quoted names)
    keys: list[Any] = []
    values: list[bytes] = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH):
            for row in rows:
                keys.append(row[0])
                values.append(hashlib.blake2b(repr(row[1:]).encode("utf-8", "surrogatepass"), digest_size=8).digest())
    hashes = np.frombuffer(b"".join(values), dtype=">u8").astype(np.uint64)
    if integer:
        return Digests(keys=np.asarray(keys, dtype=np.int64), hashes=hashes)
    return Digests(keys=[str(k) for k in keys], hashes=hashes)


def changes(before: Digests, after: Digests) -> tuple[list[Any], list[Any]]:
    """(keys new or changed, keys gone) from ``before`` to ``after``."""
    if before.integer and after.integer:
        _common, in_after, in_before = np.intersect1d(after.keys, before.keys, assume_unique=True, return_indices=True)
        changed_mask = np.ones(len(after.keys), dtype=bool)
        changed_mask[in_after] = after.hashes[in_after] != before.hashes[in_before]
        gone_mask = np.ones(len(before.keys), dtype=bool)
        gone_mask[in_before] = False
        return [int(k) for k in after.keys[changed_mask]], [int(k) for k in before.keys[gone_mask]]
    old = dict(zip((str(k) for k in before.keys), before.hashes.tolist(), strict=True))
    new = dict(zip((str(k) for k in after.keys), after.hashes.tolist(), strict=True))
    changed = [k for k, h in new.items() if old.get(k) != h]
    gone = [k for k in old if k not in new]
    return changed, gone
