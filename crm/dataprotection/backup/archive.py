"""The stream inside a backup file (before encryption): gzip-compressed frames.

    MAGIC
    H  header: the manifest's first half (kind, chain, parent, schema, journal position...)
    T  a table begins: name, columns, and how a restore applies it (mode)
    X  tombstones: keys of rows gone since the previous backup
    K  owner keys: many-to-many rows of these owners are replaced
    P  purge: rows with a key below this one are gone (a log's oldest rows)
    R  rows: JSON arrays, one per line, in column order (``codec``)
    E  the table ends: rows written and their checksum
    F  a file begins (an attachment): name, size, SHA-256
    B  bytes of the file
    G  the file ends
    Z  trailer: the manifest's second half (per-table counts and checksums, files, sequences)

Each frame is one tag byte, a 4-byte big-endian length and the payload. A reader checks each table's
rows against its ``E`` frame and each file against its ``F`` frame.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

MAGIC = b"CRM-BACKUP\n\x01"
HEADER = b"H"
TABLE = b"T"
TOMBSTONES = b"X"
OWNERS = b"K"
PURGE = b"P"
ROWS = b"R"
TABLE_END = b"E"
FILE = b"F"
FILE_BYTES = b"B"
FILE_END = b"G"
TRAILER = b"Z"

COMPRESSION_LEVEL = 3
CHUNK = 1 << 20


class ArchiveError(ValueError):
    """The stream is not a complete, well-formed backup."""


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


class Writer:
    """Frames pushed here come out compressed, through ``emit`` (a callable taking bytes)."""

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self._emit = emit
        self._zip = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, 31)
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._raw(MAGIC)

    def _raw(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= CHUNK:
            self._drain()

    def _drain(self) -> None:
        if self._buffer:
            out = self._zip.compress(b"".join(self._buffer))
            self._buffer.clear()
            self._buffered = 0
            if out:
                self._emit(out)

    def frame(self, tag: bytes, payload: bytes) -> None:
        self._raw(tag + len(payload).to_bytes(4, "big"))
        self._raw(payload)

    def json(self, tag: bytes, value: Any) -> None:
        self.frame(tag, _json(value))

    def rows(self, lines: list[bytes]) -> None:
        if lines:
            self.frame(ROWS, b"\n".join(lines))

    def close(self) -> None:
        self._drain()
        self._emit(self._zip.flush())


def frames(stream: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(tag, payload) of every frame of a decrypted backup stream; raises ``ArchiveError`` when the
    stream is cut short or malformed."""
    unzip = zlib.decompressobj(31)
    buffer = bytearray()

    def fill(need: int) -> bool:
        while len(buffer) < need:
            chunk = stream.read(CHUNK)
            if not chunk:
                tail = unzip.flush()
                if tail:
                    buffer.extend(tail)
                    continue
                return False
            try:
                buffer.extend(unzip.decompress(chunk))
            except zlib.error as exc:
                raise ArchiveError(f"the compressed stream is damaged ({exc})") from exc
        return True

    if not fill(len(MAGIC)) or bytes(buffer[: len(MAGIC)]) != MAGIC:
        raise ArchiveError("not a backup of this CRM (unknown format)")
    del buffer[: len(MAGIC)]
    while True:
        if not fill(5):
            if buffer:
                raise ArchiveError("the stream ends inside a frame")
            return
        tag = bytes(buffer[:1])
        size = int.from_bytes(buffer[1:5], "big")
        if not fill(5 + size):
            raise ArchiveError("the stream ends inside a frame")
        payload = bytes(buffer[5 : 5 + size])
        del buffer[: 5 + size]
        yield tag, payload
        if tag == TRAILER:
            if fill(1):
                raise ArchiveError("data after the end of the backup")
            if not unzip.eof:
                raise ArchiveError("the compressed stream is cut short")
            return


def read_json(payload: bytes) -> Any:
    return json.loads(payload.decode("utf-8"))


def header_of(stream: IO[bytes]) -> dict[str, Any]:
    """The header frame alone (the first one)."""
    for tag, payload in frames(stream):
        if tag != HEADER:
            raise ArchiveError("the backup does not start with its header")
        return read_json(payload)  # type: ignore[no-any-return]
    raise ArchiveError("the backup is empty")
