"""Checking that the latest chain can be restored, and recording the result on its ``Backup`` rows.

Without a private key, the stored files are checked: each is present, of the recorded size and
SHA-256, with its description beside it. With a private key (``--identity``, or the key file named by
``CRM_BACKUP_VERIFY_IDENTITY`` for the scheduled and page-started checks), the chain is also restored
into a scratch database (a temporary SQLite file unless a database is named) and every table compared
with the manifests, exactly as a real restore does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from . import crypto, destinations, ledger, restore
from .choices import BackupStatus, VerifyLevel, VerifyStatus

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    return None


class NothingToVerify(RuntimeError):
    pass


def latest_chain() -> list[Any]:
    """The complete backups of the newest chain, in order, up to the newest complete one."""
    from ..models import Backup

    latest = Backup.objects.filter(status=BackupStatus.COMPLETE).order_by("-started_at", "-id").first()
    if latest is None:
        raise NothingToVerify(_("There is no complete backup to verify."))
    chain = list(
        Backup.objects.filter(chain=latest.chain, status=BackupStatus.COMPLETE, sequence__lte=latest.sequence).order_by(
            "sequence"
        )
    )
    return chain


def verify_identities(path: str | Path | None = None) -> list[Any] | None:
    path = path or getattr(settings, "CRM_BACKUP_VERIFY_IDENTITY", "")
    return crypto.read_identities(Path(path)) if path else None


def verify_latest(
    *, identities: list[Any] | None = None, database_url: str = "", progress: Progress = _no_progress
) -> dict[str, Any]:
    """Verify the latest chain; returns what was found and records it on the chain's rows."""
    from ..models import Backup
    from .engine import current_settings

    chain = latest_chain()
    ids = [b.pk for b in chain]
    level = VerifyLevel.RESTORED if identities else VerifyLevel.STORED
    try:
        destination = destinations.get(current_settings().destination)
        if any(b.destination != destination.label for b in chain):
            raise restore.RestoreError(_("The chain is in another destination than the one configured."))
        with tempfile.TemporaryDirectory(prefix="restore-", dir=destinations.work_dir()) as folder:
            sources = []
            for index, backup in enumerate(chain):
                progress(2 + int(20 * index / len(chain)), _("Checking %(name)s") % {"name": backup.file_name})
                if destination.read_text(destinations.sidecar_name(backup.file_name)) is None:
                    raise restore.RestoreError(_("%(name)s has no description beside it.") % {"name": backup.file_name})
                try:
                    path = Path(destination.fetch(backup.file_name, Path(folder) / backup.file_name))
                except destinations.DestinationError as exc:
                    raise restore.RestoreError(str(exc)) from exc
                size, sha256 = path.stat().st_size, destinations.sha256_of(path)
                if size != backup.size or sha256 != backup.sha256:
                    raise restore.RestoreError(
                        _("%(name)s is not the file that was written (size or SHA-256 differ).")
                        % {"name": backup.file_name}
                    )
                sources.append(restore.Source(name=backup.file_name, path=path))
            result: dict[str, Any] = {"level": level, "backups": [b.uid for b in chain]}
            if identities:
                with tempfile.TemporaryDirectory(prefix="restore-", dir=destinations.work_dir()) as scratch:
                    url = database_url or f"sqlite:///{Path(scratch) / 'verify.sqlite3'}"
                    restored = restore.restore(
                        sources,
                        identities,
                        database_url=url,
                        ledger_entries=ledger.read(destination),
                        write_files=False,
                        progress=lambda p, m: progress(25 + int(p * 0.7), m),
                    )
                result["rows"] = restored.get("rows", 0)
                result["tables"] = len(restored.get("tables", {}))
    except (restore.RestoreError, destinations.DestinationError, crypto.KeyError_, OSError) as exc:
        Backup.objects.filter(pk__in=ids).update(
            verified_at=timezone.now(),
            verify_status=VerifyStatus.FAILED,
            verify_level=level,
            verify_message=str(exc)[:500],
        )
        raise
    if level == VerifyLevel.RESTORED:
        message = _("Restored %(rows)d rows of %(tables)d tables; every count and checksum matches.") % result
    else:
        message = _("Files present, sizes and SHA-256 as written (no private key given: not restored).")
    Backup.objects.filter(pk__in=ids).update(
        verified_at=timezone.now(), verify_status=VerifyStatus.OK, verify_level=level, verify_message=message[:500]
    )
    result["message"] = message
    return result
