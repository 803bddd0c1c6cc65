"""The keys of this process: AES-256-GCM for values, HMAC-SHA256 for blind indexes.

They come from ``CRM_FIELD_KEYS`` (the key file's JSON, for a secrets manager) or from the file
``CRM_KEY_FILE`` names, never from the database. A missing or broken key source stops the CRM at
start-up with a message that says what to do (``CoreConfig.ready`` calls :func:`load`).

A value is sealed as ``enc1:<key id>:<base64url(nonce || ciphertext || tag)>``. The key file is
looked at again at most every few seconds, so ``rotate_keys`` can add a key while the CRM runs:
every process starts sealing with the new key soon after, and a value sealed with a key this process
does not know yet makes it read the file at once before it gives up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import keyfile

PREFIX = "enc1:"
INDEX_LENGTH = 32  # hex characters of the HMAC kept as the blind index (128 bits)
RELOAD_SECONDS = 2.0


class CryptoError(Exception):
    """Keys missing or unusable, or a stored value that cannot be opened."""


class DecryptionError(CryptoError):
    pass


@dataclass(frozen=True)
class KeyRing:
    primary: str
    keys: dict[str, AESGCM]
    index_key: bytes
    source: str

    def seal(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self.keys[self.primary].encrypt(nonce, text.encode("utf-8"), None)
        return f"{PREFIX}{self.primary}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str) -> str:
        kid, blob = _split(token)
        aead = self.keys.get(kid)
        if aead is None:
            raise DecryptionError(
                f"A value was encrypted with key {kid!r}, which is not in {self.source}. Restore the key "
                f"file that holds it (keys are retired only after rotate_keys re-encrypted every value)."
            )
        try:
            return aead.decrypt(blob[:12], blob[12:], None).decode("utf-8")
        except (InvalidTag, ValueError):
            raise DecryptionError("A stored encrypted value failed its integrity check: it was altered.") from None

    def index(self, text: str) -> str:
        return hmac.new(self.index_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:INDEX_LENGTH]


def _split(token: str) -> tuple[str, bytes]:
    try:
        kid, encoded = token[len(PREFIX) :].split(":", 1)
        blob = base64.urlsafe_b64decode(encoded.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise DecryptionError("A stored encrypted value is damaged (it cannot be decoded).") from None
    if not token.startswith(PREFIX) or len(blob) < 12 + 16:
        raise DecryptionError("A stored encrypted value is damaged (it is too short).")
    return kid, blob


def key_id(token: str) -> str:
    return _split(token)[0]


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


# --- the process's key ring ------------------------------------------------------------------------------


_lock = threading.Lock()
_ring: KeyRing | None = None
_checked_at = 0.0
_file_stamp: tuple[float, int] | None = None


def _settings() -> tuple[str, Path | None]:
    from django.conf import settings

    path = getattr(settings, "CRM_KEY_FILE", None)
    return os.environ.get("CRM_FIELD_KEYS", "") or getattr(settings, "CRM_FIELD_KEYS", ""), (
        Path(path) if path else None
    )


def _build(data: dict[str, Any], source: str) -> KeyRing:
    return KeyRing(
        primary=data["primary"],
        keys={kid: AESGCM(keyfile.decode_key(text, name=kid)) for kid, text in data["keys"].items()},
        index_key=keyfile.decode_key(data["index_key"], name="index_key"),
        source=source,
    )


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime, stat.st_size)


def load(*, force: bool = True) -> KeyRing:
    """Read the keys now (or return the ring read less than a few seconds ago unless ``force``).
    Raises :class:`CryptoError` with what to do when there are none."""
    global _ring, _checked_at, _file_stamp
    with _lock:
        now = time.monotonic()
        if _ring is not None and not force and now - _checked_at < RELOAD_SECONDS:
            return _ring
        text, path = _settings()
        if text:
            if _ring is None or force:
                try:
                    _ring = _build(keyfile.validate(json.loads(text)), "CRM_FIELD_KEYS")
                except (json.JSONDecodeError, keyfile.KeyFileError) as exc:
                    raise CryptoError(f"CRM_FIELD_KEYS is not a usable key set: {exc}.") from None
            _checked_at = now
            return _ring
        if path is None:
            raise CryptoError("No field-encryption keys: set CRM_KEY_FILE (a key file) or CRM_FIELD_KEYS.")
        stamp = _stamp(path)
        if _ring is not None and not force and stamp == _file_stamp:
            _checked_at = now
            return _ring
        try:
            data = keyfile.read(path)
        except keyfile.KeyFileError as exc:
            if _ring is not None and stamp is not None:
                return _ring  # a file being replaced this instant: keep the keys already read
            raise CryptoError(
                f"The field-encryption key file cannot be used: {exc}. Encrypted fields cannot be read without "
                f"it. Restore it from your key custody and set CRM_KEY_FILE to its path; for a new, empty "
                f"installation create one with: python -m crm.core.crypto.keyfile create {path}"
            ) from None
        _ring = _build(data, str(path))
        _file_stamp = stamp
        _checked_at = now
        return _ring


def ring() -> KeyRing:
    current = _ring  # read without the lock: most calls come within seconds of the last check
    if current is not None and time.monotonic() - _checked_at < RELOAD_SECONDS:
        return current
    return load(force=False)


def seal(text: str) -> str:
    return ring().seal(text)


def open_sealed(token: str) -> str:
    current = ring()
    try:
        return current.open(token)
    except DecryptionError:
        if key_id(token) in current.keys:
            raise
    return load(force=True).open(token)  # a key added by a rotation this process has not seen yet


def blind_index(text: str) -> str:
    return ring().index(text)


def reset() -> None:
    """Forget the keys read (tests that change the key source)."""
    global _ring, _checked_at, _file_stamp
    with _lock:
        _ring, _checked_at, _file_stamp = None, 0.0, None


def opened(value: Any) -> Any:
    """``value`` (JSON-like) with every sealed string in it opened: for a person's own copy of their
    data (privacy export). A value that cannot be opened is replaced by ``None``."""
    if is_sealed(value):
        try:
            return open_sealed(value)
        except DecryptionError:
            return None
    if isinstance(value, list):
        return [opened(v) for v in value]
    if isinstance(value, dict):
        return {k: opened(v) for k, v in value.items()}
    return value
