"""Running one backup: the lock, the ``Backup`` row, the snapshot, encryption and storage.

1. Take the backup lock (PostgreSQL: an advisory lock; SQLite: a lock file). A run that finds it
   taken does nothing: another backup is running. Holding it, any ``running`` row left behind is
   stale (its process died): it is marked failed and its temporary file removed.
2. Decide: an incremental continues the latest complete backup's chain unless a full is needed (no
   chain yet, another schema, engine, destination or set of field keys, digests missing, or a full
   was asked for).
3. Record the row as ``running``, stream the snapshot through compression and encryption into a
   temporary file, give it its final name, write its description beside it, and only then mark the
   row ``complete`` with its manifest (and keep the digests the next incremental compares with).
4. Bring the erasure ledger up to date and apply retention.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import crypto, destinations, dump, incremental, ledger
from .choices import BackupKind, BackupStatus
from .destinations import Destination

logger = logging.getLogger(__name__)

FORMAT = 1
LOCK_KEY = 0x43524D42  # "CRMB": the PostgreSQL advisory lock of backups

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    return None


class BackupBusy(RuntimeError):
    """Another backup is running."""


class BackupRefused(RuntimeError):
    """A backup cannot run as configured (no recipient, destination unavailable)."""


@contextmanager
def backup_lock() -> Iterator[bool]:
    """Hold the backup lock for the block; yields whether it was taken."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            taken = bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return
    path = destinations.work_dir() / "backup.lock"
    handle = open(path, "a+b")  # noqa: SIM115 (held for the block)
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = True
        except BlockingIOError:
            taken = False
        except ImportError:  # Windows: the file's byte-range lock
            import msvcrt

            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
                taken = True
            except OSError:
                taken = False
        yield taken
    finally:
        handle.close()


def current_settings() -> Any:
    from ..models import BackupSettings

    found, _created = BackupSettings.objects.get_or_create(pk=1)
    return found


def recipients() -> list[str]:
    from ..models import BackupRecipient

    return list(BackupRecipient.objects.order_by("pk").values_list("public_key", flat=True))


def field_keys() -> dict[str, Any] | None:
    """Which field-encryption keys exist (ids only): a backup after a rotation must be full."""
    try:
        from crm.core.crypto import keyring
    except ImportError:  # pragma: no cover
        return None
    try:
        ring = keyring.ring()
    except Exception:
        return None
    return {"primary": ring.primary, "keys": sorted(ring.keys)}


def mark_stale(destination: Destination | None = None) -> int:
    """Rows left ``running`` by a process that died (called holding the lock) are marked failed, and
    whatever such a run left in the destination is removed (a file renamed just before the process
    died would otherwise sit there, finished but not recorded)."""
    from ..models import Backup

    stale = Backup.objects.filter(status=BackupStatus.RUNNING)
    if destination is not None:
        for file_name, label in stale.values_list("file_name", "destination"):
            if file_name and label == destination.label:
                destination.delete(destinations.sidecar_name(file_name))
                destination.delete(file_name)
    return stale.update(
        status=BackupStatus.FAILED,
        finished_at=timezone.now(),
        error=_("Interrupted: the process running it stopped before it finished."),
    )


def _window() -> timedelta:
    return timedelta(seconds=int(settings.CRM_BACKUP_SAFETY_WINDOW_SECONDS))


def plan(requested: str, destination: Destination) -> tuple[str, Any, str]:
    """(kind, previous backup or None, why a full) for a run asked to make ``requested``."""
    from ..models import Backup

    if requested == BackupKind.FULL:
        return BackupKind.FULL, None, ""
    backup_settings = current_settings()
    latest = Backup.objects.filter(status=BackupStatus.COMPLETE).order_by("-started_at", "-id").first()
    reason = ""
    if latest is None:
        reason = _("there is no complete backup to continue")
    elif backup_settings.full_required:
        reason = backup_settings.full_required
    elif latest.destination != destination.label:
        reason = _("the destination changed")
    elif latest.engine != connection.vendor:
        reason = _("the database engine changed")
    elif latest.manifest.get("schema") != dump.schema(connection):
        reason = _("the database schema changed (migrations ran)")
    elif latest.manifest.get("field_keys") != field_keys():
        reason = _("the field-encryption keys changed")
    else:
        have = set(latest.digests.values_list("table", flat=True))
        need = {t.name for t in dump.digest_tables()}
        if need - have:
            reason = _("the previous backup has no digests of %(tables)s") % {"tables": ", ".join(sorted(need - have))}
    if reason:
        return BackupKind.FULL, None, reason
    return BackupKind.INCREMENTAL, latest, ""


class _Sink:
    """The encrypted file being written: counts and hashes what passes."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.handle.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.handle.flush()

    def writable(self) -> bool:
        return True


def run_backup(
    *,
    requested: str = BackupKind.INCREMENTAL,
    started_by: Any = None,
    job: Any = None,
    progress: Progress = _no_progress,
) -> Any:
    """Make one backup (see the module's docstring); returns its ``Backup`` row. Raises ``BackupBusy``
    when another backup holds the lock and ``BackupRefused`` when none can be made."""
    from ..models import Backup

    with backup_lock() as taken:
        if not taken:
            raise BackupBusy(_("Another backup is running; try again when it has finished."))
        keys = recipients()
        if not keys:
            mark_stale()
            raise BackupRefused(_("Add at least one recipient's public key first: backups are encrypted to them."))
        backup_settings = current_settings()
        try:
            destination = destinations.get(backup_settings.destination)
            destination.prepare()
        except (destinations.DestinationError, OSError) as exc:
            mark_stale()
            raise BackupRefused(str(exc)) from exc
        mark_stale(destination)
        destination.clean_partial()
        kind, previous, reason = plan(requested, destination)
        now = timezone.now()
        uid = f"{now:%Y%m%d-%H%M%S}-{kind}-{secrets.token_hex(4)}"
        row = Backup.objects.create(
            uid=uid,
            kind=kind,
            chain=previous.chain if previous else uid,
            sequence=previous.sequence + 1 if previous else 0,
            parent=previous,
            engine=connection.vendor,
            destination=destination.label,
            file_name=f"crm-{uid}{destinations.SUFFIX}",
            started_by=started_by,
            job=job,
            manifest={"full_reason": str(reason)} if reason else {},
        )
        try:
            try:
                _write(row, previous, destination, keys, progress)
            except incremental.FullNeeded as exc:
                destination.temp_path(row.file_name).unlink(missing_ok=True)
                row = _as_full(row, str(exc))
                _write(row, None, destination, keys, progress)
        except BaseException as exc:
            destination.temp_path(row.file_name).unlink(missing_ok=True)
            Backup.objects.filter(pk=row.pk).update(
                status=BackupStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            raise
        progress(96, _("Erasure ledger"))
        try:
            ledger.sync(destination)
        except Exception:
            logger.exception("The erasure ledger could not be brought up to date")
        progress(98, _("Retention"))
        from . import schedule

        try:
            schedule.apply_retention(destination)
        except Exception:
            logger.exception("Retention of backups failed")
        row.refresh_from_db()
        return row


def _write(row: Any, previous: Any, destination: Destination, keys: list[str], progress: Progress) -> None:
    from ..models import Backup, BackupDigest

    temp = destination.temp_path(row.file_name)
    result = dump.Result()
    with open(temp, "wb") as handle:
        if os.name != "nt":
            os.chmod(temp, 0o600)
        sink = _Sink(handle)
        with dump.snapshot(connection) as snap:
            header = {
                "format": FORMAT,
                "uid": row.uid,
                "kind": row.kind,
                "chain": row.chain,
                "sequence": row.sequence,
                "parent": previous.uid if previous else "",
                "created_at": snap.started_at.isoformat(),
                "engine": connection.vendor,
                "schema": dump.schema(connection),
                "journal_position": snap.position,
                "journal_gaps": incremental.journal_gaps(snap, _window()),
                "seal_head": snap.seal_head,
                "field_keys": field_keys(),
                "recipients": [_fingerprint(k) for k in keys],
            }
            if previous is None:
                stream = dump.full(snap, header, result, progress)
            else:
                prev = incremental.Previous(
                    position=previous.journal_position,
                    snapshot_at=previous.snapshot_at,
                    seal_head=int(previous.manifest.get("seal_head", 0)),
                    log_max=dict(previous.manifest.get("log_max", {})),
                    digests={d.table: _load_digest(d.data) for d in previous.digests.all()},
                    window=_window(),
                    gaps=previous.manifest.get("journal_gaps"),
                )
                header["previous_position"] = prev.position
                header["window_seconds"] = int(prev.window.total_seconds())
                progress(5, _("Finding the changes"))
                plan = incremental.incremental_keys(snap, prev, result)  # may raise FullNeeded
                stream = incremental.incremental(snap, header, plan, result, progress)
            crypto.encrypt(stream, sink, keys)
        handle.flush()
    progress(92, _("Storing the file"))
    destination.commit(temp, row.file_name)
    # The database keeps the manifest without the list of attached files (the file holds it).
    files = {"count": len(result.files), "bytes": sum(f["size"] for f in result.files)}
    manifest = {**row.manifest, **header, **result.trailer, "files": files}
    description = {
        "format": FORMAT,
        "uid": row.uid,
        "kind": row.kind,
        "chain": row.chain,
        "sequence": row.sequence,
        "parent": header["parent"],
        "created_at": header["created_at"],
        "file": row.file_name,
        "size": sink.size,
        "sha256": sink.sha256.hexdigest(),
    }
    destinations.write_sidecar(destination, row.file_name, description)
    with transaction.atomic():
        Backup.objects.filter(pk=row.pk).update(
            status=BackupStatus.COMPLETE,
            finished_at=timezone.now(),
            snapshot_at=snap.started_at,
            journal_position=snap.position,
            size=sink.size,
            sha256=sink.sha256.hexdigest(),
            manifest=manifest,
            error="",
        )
        BackupDigest.objects.bulk_create(
            [BackupDigest(backup_id=row.pk, table=name, data=d.dump()) for name, d in sorted(result.digests.items())]
        )
        # Only the latest complete backup's digests are ever compared with.
        BackupDigest.objects.exclude(backup_id=row.pk).delete()
        if row.kind == BackupKind.FULL:
            from ..models import BackupSettings

            BackupSettings.objects.filter(pk=1).update(full_required="")


def _as_full(row: Any, reason: str) -> Any:
    """Turn a row started as an incremental into a full backup (a new chain)."""
    uid = f"{row.started_at:%Y%m%d-%H%M%S}-{BackupKind.FULL}-{secrets.token_hex(4)}"
    row.uid, row.kind, row.chain, row.sequence, row.parent = uid, BackupKind.FULL, uid, 0, None
    row.file_name = f"crm-{uid}{destinations.SUFFIX}"
    row.manifest = {"full_reason": reason}
    row.save(update_fields=["uid", "kind", "chain", "sequence", "parent", "file_name", "manifest"])
    return row


def _load_digest(data: Any) -> Any:
    from .digests import Digests

    return Digests.load(bytes(data))


def _fingerprint(public_key: str) -> str:
    return hashlib.sha256(public_key.encode("ascii")).hexdigest()[:16]


def require_full(reason: str) -> None:
    """Make the next backup a full one (data was changed in a way the journal does not show, such as
    re-encrypting every value under a new key)."""
    from ..models import BackupSettings

    current_settings()
    BackupSettings.objects.filter(pk=1).update(full_required=str(reason)[:200])


def temp_files() -> list[Path]:
    return sorted(destinations.work_dir().glob(f".*{destinations.PARTIAL}"))
