"""Encryption of backup files to the administrators' public keys, in the age format (pyrage).

age wraps a random file key for each X25519 recipient and encrypts the stream in authenticated
64 KiB chunks (ChaCha20-Poly1305), the last chunk marked as last: a file cut short, altered, or
encrypted to other keys does not decrypt. The server holds public keys only; ``manage.py
backup_keygen`` makes a key pair and writes the private key to a file only its owner can read.
The standard ``age`` tool reads the files too: ``age -d -i key.txt FILE | gunzip``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any


def _pyrage() -> ModuleType:
    """pyrage, imported when a key or a file is handled: web processes that only show the backups
    page never load it."""
    import pyrage

    return pyrage


PUBLIC_PREFIX = "age1"
SECRET_PREFIX = "AGE-SECRET-KEY-1"  # noqa: S105 (the format's prefix, not a key)


class KeyError_(ValueError):
    """A key that is not a valid age X25519 key."""


class DecryptError(ValueError):
    """The file cannot be decrypted with the given private key(s)."""


def parse_recipient(text: str) -> Any:
    value = (text or "").strip()
    if not value.startswith(PUBLIC_PREFIX):
        raise KeyError_("not an age public key")
    try:
        return _pyrage().x25519.Recipient.from_str(value)
    except Exception as exc:  # pyrage.RecipientError and friends
        raise KeyError_(str(exc)) from exc


def normalise_recipient(text: str) -> str:
    return str(parse_recipient(text))


def generate() -> tuple[str, str]:
    """A new key pair: (private key, public key), both as text."""
    identity = _pyrage().x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def write_identity(path: Path, secret: str, public: str) -> None:
    """Write a private key to a new file readable by its owner only (mode 600); never overwrites."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"# CRM backup key\n# public key: {public}\n{secret}\n")
    os.chmod(path, 0o600)


def read_identities(path: Path) -> list[Any]:
    """The private keys of an identity file (age's format: one per line, ``#`` comments)."""
    identities = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith(SECRET_PREFIX):
            raise KeyError_("the identity file holds something that is not an age private key")
        try:
            identities.append(_pyrage().x25519.Identity.from_str(line))
        except Exception as exc:
            raise KeyError_(str(exc)) from exc
    if not identities:
        raise KeyError_("the identity file holds no private key")
    return identities


class _Pull:
    """A readable object whose ``read`` pulls chunks from an iterator (what ``encrypt_io`` reads)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = chunk
        if size is None or size < 0 or size >= len(self._pending):
            out, self._pending = self._pending, b""
            return out
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def readable(self) -> bool:
        return True


def encrypt(chunks: Iterable[bytes], out: Any, recipients: list[str]) -> None:
    """Encrypt the concatenated ``chunks`` to every recipient, writing to ``out`` as it goes."""
    if not recipients:
        raise KeyError_("no recipients")
    keys = [parse_recipient(r) for r in recipients]
    _pyrage().encrypt_io(_Pull(chunks), out, keys)


def decrypt(source: Any, out: Any, identities: list[Any]) -> None:
    """Decrypt ``source`` into ``out``; raises ``DecryptError`` if any part fails to authenticate."""
    pyrage = _pyrage()
    try:
        pyrage.decrypt_io(source, out, identities)
    except pyrage.DecryptError as exc:
        raise DecryptError(str(exc)) from exc
    except OSError as exc:  # pyrage reports a damaged or cut-short stream as an I/O error
        raise DecryptError(str(exc)) from exc
