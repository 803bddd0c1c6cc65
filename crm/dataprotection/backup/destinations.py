"""Where backup files go: a local folder (``CRM_BACKUP_DIR``) or S3-compatible storage
(``CRM_BACKUP_S3_*``; needs boto3, installed with ``requirements/s3.lock``).

A backup is written under a temporary name and given its final name only when complete: in the folder
with an atomic rename; on S3 by uploading the finished file (an object appears whole or not at all).
Beside each backup ``<name>.age`` lies ``<name>.json``, its public description (kind, chain, parent,
size, SHA-256; nothing personal), written last: a backup without one is not finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .choices import DestinationKind

SUFFIX = ".age"
SIDECAR = ".json"
PARTIAL = ".partial"
LEDGER = "erasure-ledger/"


class DestinationError(RuntimeError):
    pass


def s3_available() -> bool:
    try:
        import boto3  # noqa: F401
    except ImportError:
        return False
    return True


def s3_configured() -> bool:
    return bool(getattr(settings, "CRM_BACKUP_S3_BUCKET", ""))


def work_dir() -> Path:
    path = Path(settings.CRM_BACKUP_WORK_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class LocalFolder:
    kind = DestinationKind.LOCAL

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def label(self) -> str:
        return str(self.path)

    def prepare(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)

    def temp_path(self, name: str) -> Path:
        self.prepare()
        return self.path / f".{name}{PARTIAL}"

    def commit(self, temp: Path, name: str) -> None:
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, self.path / name)
        _fsync_dir(self.path)

    def put_text(self, name: str, text: str) -> None:
        self.prepare()
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}{PARTIAL}")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)

    def read_text(self, name: str) -> str | None:
        target = self.path / name
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def list(self, prefix: str = "") -> list[str]:
        base = self.path / prefix if prefix else self.path
        if not base.is_dir():
            return []
        return sorted(prefix + p.name for p in base.iterdir() if p.is_file() and not p.name.startswith("."))

    def fetch(self, name: str, target: Path) -> Path:
        source = self.path / name
        if not source.is_file():
            raise DestinationError(_("The backup file %(name)s is missing.") % {"name": name})
        return source  # read in place

    def delete(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def clean_partial(self) -> int:
        if not self.path.is_dir():
            return 0
        removed = 0
        for stale in self.path.glob(f".*{PARTIAL}"):
            stale.unlink(missing_ok=True)
            removed += 1
        return removed


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Bucket:
    kind = DestinationKind.S3

    def __init__(self) -> None:
        if not s3_available():
            raise DestinationError(
                _("S3 is unavailable: boto3 is not installed (pip install -r requirements/s3.lock).")
            )
        if not s3_configured():
            raise DestinationError(_("S3 is not configured: set CRM_BACKUP_S3_BUCKET."))
        import boto3
        from botocore.config import Config

        self.bucket = settings.CRM_BACKUP_S3_BUCKET
        self.prefix = settings.CRM_BACKUP_S3_PREFIX
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.CRM_BACKUP_S3_ENDPOINT_URL or None,
            region_name=settings.CRM_BACKUP_S3_REGION or None,
            aws_access_key_id=settings.CRM_BACKUP_S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.CRM_BACKUP_S3_SECRET_ACCESS_KEY or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    @property
    def label(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def prepare(self) -> None:
        return None

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def temp_path(self, name: str) -> Path:
        return work_dir() / f".{name}{PARTIAL}"

    def commit(self, temp: Path, name: str) -> None:
        self.client.upload_file(str(temp), self.bucket, self._key(name))
        temp.unlink(missing_ok=True)

    def put_text(self, name: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=text.encode("utf-8"))

    def read_text(self, name: str) -> str | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.client.exceptions.NoSuchKey:
            return None
        return response["Body"].read().decode("utf-8")  # type: ignore[no-any-return]

    def list(self, prefix: str = "") -> list[str]:
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if "/" in name.removeprefix(prefix):
                    continue
                names.append(name)
        return sorted(names)

    def fetch(self, name: str, target: Path) -> Path:
        try:
            self.client.download_file(self.bucket, self._key(name), str(target))
        except Exception as exc:
            raise DestinationError(
                _("The backup file %(name)s cannot be fetched: %(error)s") % {"name": name, "error": exc}
            ) from exc
        return target

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def clean_partial(self) -> int:
        removed = 0
        for stale in work_dir().glob(f".*{PARTIAL}"):
            stale.unlink(missing_ok=True)
            removed += 1
        return removed


Destination = LocalFolder | S3Bucket


def get(kind: str) -> Destination:
    if kind == DestinationKind.S3:
        return S3Bucket()
    return LocalFolder(settings.CRM_BACKUP_DIR)


def sidecar_name(file_name: str) -> str:
    return file_name.removesuffix(SUFFIX) + SIDECAR


def write_sidecar(destination: Destination, file_name: str, description: dict[str, Any]) -> None:
    destination.put_text(sidecar_name(file_name), json.dumps(description, indent=2, sort_keys=True))


def read_sidecars(destination: Destination) -> list[dict[str, Any]]:
    """The descriptions of the finished backups in a destination, oldest first."""
    found = []
    for name in destination.list():
        if not name.endswith(SIDECAR):
            continue
        text = destination.read_text(name)
        if not text:
            continue
        try:
            description = json.loads(text)
        except ValueError:
            continue
        if isinstance(description, dict) and description.get("file"):
            found.append(description)
    return sorted(found, key=lambda d: (str(d.get("created_at", "")), int(d.get("sequence", 0))))


def copy_to(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
