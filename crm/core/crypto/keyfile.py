"""The field-encryption key file: read, created and extended with the standard library only, so that
set-up can make one before Django (or any package) is installed.

The file is JSON, readable by its owner only::

    {"version": 1, "primary": "k2",
     "keys": {"k1": "<32 random bytes, base64>", "k2": "..."},
     "index_key": "<32 random bytes, base64>"}

``keys`` encrypt values (AES-256-GCM); new values use ``primary``, older ones keep naming the key
that sealed them until ``manage.py rotate_keys`` re-encrypts them. ``index_key`` keys the blind
indexes (HMAC-SHA256) that let a phone number be found without storing it in clear; it does not
rotate with the others.

Create one for a new installation::

    python -m crm.core.crypto.keyfile create /etc/crm/field-keys.json
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

KEY_ID = re.compile(r"^k[0-9]{1,6}$")
KEY_BYTES = 32


class KeyFileError(Exception):
    pass


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def decode_key(text: str, *, name: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise KeyFileError(f"key {name} is not base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyFileError(f"key {name} must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def validate(data: Any) -> dict[str, Any]:
    """The parsed file, checked: every key well formed, the primary among them."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict) or not data["keys"]:
        raise KeyFileError("it holds no keys")
    for kid, text in data["keys"].items():
        if not KEY_ID.match(str(kid)):
            raise KeyFileError(f"{kid!r} is not a key id (k1, k2, ...)")
        decode_key(str(text), name=kid)
    if data.get("primary") not in data["keys"]:
        raise KeyFileError("its primary key is not among its keys")
    decode_key(str(data.get("index_key", "")), name="index_key")
    return data


def read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(f"{path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"{path} cannot be read ({exc.strerror})") from None
    try:
        return validate(json.loads(text))
    except json.JSONDecodeError:
        raise KeyFileError(f"{path} is not JSON") from None


def write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file atomically (a reader never sees half a file), owner-readable only."""
    validate(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def create(path: Path) -> dict[str, Any]:
    if path.exists():
        raise KeyFileError(f"{path} exists already; it is never overwritten")
    data = {"version": 1, "primary": "k1", "keys": {"k1": new_key()}, "index_key": new_key()}
    write(path, data)
    return data


def create_in(folder: str | Path) -> Path:
    """A new key file ``field-keys.json`` in ``folder`` (scratch databases of benchmarks and checks)."""
    path = Path(folder) / "field-keys.json"
    create(path)
    return path


def add_key(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A copy of ``data`` with a new key that becomes the primary one."""
    number = max(int(kid[1:]) for kid in data["keys"]) + 1
    kid = f"k{number}"
    return {**data, "keys": {**data["keys"], kid: new_key()}, "primary": kid}, kid


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "create":
        print("usage: python -m crm.core.crypto.keyfile create PATH", file=sys.stderr)
        return 2
    try:
        create(Path(argv[1]))
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Created {argv[1]}. Keep a copy where the database and its backups are not: without it the")
    print("encrypted fields cannot be read.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
