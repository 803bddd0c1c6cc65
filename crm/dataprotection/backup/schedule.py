"""What is due (the worker asks every few minutes) and what is kept.

A full backup is due once per period (every day, or every week on the chosen day) at the chosen time
(the site's time zone): when no full backup started since the last such moment. An incremental is due
``incremental_minutes`` after the last complete backup. A failed attempt is retried after
``RETRY_MINUTES``.

Retention keeps the newest ``keep_fulls`` complete full backups and ``keep_incremental_days`` days of
incrementals; a chain's incrementals go together (each needs the ones before it), and a full backup
is never deleted while an incremental of its chain is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .choices import BackupKind, BackupStatus, FullFrequency
from .destinations import Destination

RETRY_MINUTES = 30


def last_full_slot(settings_row: Any, now: dt.datetime) -> dt.datetime | None:
    """The most recent moment a full backup was scheduled for (``None``: fulls are started by hand)."""
    if settings_row.full_frequency == FullFrequency.NEVER:
        return None
    local = timezone.localtime(now)
    slot = local.replace(
        hour=settings_row.full_time.hour, minute=settings_row.full_time.minute, second=0, microsecond=0
    )
    if settings_row.full_frequency == FullFrequency.WEEKLY:
        slot -= dt.timedelta(days=(slot.weekday() - settings_row.full_weekday) % 7)
        if slot > local:
            slot -= dt.timedelta(days=7)
    elif slot > local:
        slot -= dt.timedelta(days=1)
    return slot


def due(now: dt.datetime | None = None) -> str:
    """``"full"``, ``"incremental"`` or ``""`` (nothing due)."""
    from ..models import Backup
    from .engine import current_settings

    now = now or timezone.now()
    settings_row = current_settings()
    if not settings_row.enabled:
        return ""
    retry_after = now - dt.timedelta(minutes=RETRY_MINUTES)
    last_failed = (
        Backup.objects.filter(status=BackupStatus.FAILED)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if last_failed is not None and last_failed > retry_after:
        return ""
    complete = Backup.objects.filter(status=BackupStatus.COMPLETE)
    slot = last_full_slot(settings_row, now)
    if (
        slot is not None
        and not Backup.objects.filter(kind=BackupKind.FULL, started_at__gte=slot)
        .exclude(status=BackupStatus.FAILED)
        .exists()
    ):
        return BackupKind.FULL
    latest = complete.order_by("-started_at").values_list("started_at", flat=True).first()
    if latest is None:
        return BackupKind.FULL
    minutes = settings_row.incremental_minutes
    if minutes and latest <= now - dt.timedelta(minutes=minutes):
        return BackupKind.INCREMENTAL
    return ""


def to_delete(now: dt.datetime | None = None) -> list[Any]:
    """The complete backups retention removes (incrementals before their full)."""
    from ..models import Backup
    from .engine import current_settings

    now = now or timezone.now()
    settings_row = current_settings()
    complete = list(Backup.objects.filter(status=BackupStatus.COMPLETE).order_by("-started_at", "-id"))
    fulls = [b for b in complete if b.kind == BackupKind.FULL]
    kept_fulls = {b.chain for b in fulls[: settings_row.keep_fulls]}
    cutoff = now - dt.timedelta(days=settings_row.keep_incremental_days)
    newest_in_chain: dict[str, dt.datetime] = {}
    for backup in complete:
        if backup.kind == BackupKind.INCREMENTAL:
            newest_in_chain.setdefault(backup.chain, backup.started_at)
    doomed = []
    for backup in complete:
        incrementals_kept = newest_in_chain.get(backup.chain, dt.datetime.min.replace(tzinfo=dt.UTC)) >= cutoff
        if (backup.kind == BackupKind.INCREMENTAL and not incrementals_kept) or (
            backup.kind == BackupKind.FULL and backup.chain not in kept_fulls and not incrementals_kept
        ):
            doomed.append(backup)
    # The newest complete backup is never removed, whatever the settings.
    if complete:
        doomed = [b for b in doomed if b.chain != complete[0].chain]
    return sorted(doomed, key=lambda b: (b.chain, -b.sequence))


def apply_retention(destination: Destination, now: dt.datetime | None = None) -> int:
    """Delete what retention removes, file and row (incrementals first); returns how many."""
    from ..models import Backup
    from . import destinations

    removed = 0
    for backup in to_delete(now):
        if backup.destination != destination.label:
            continue  # in a destination no longer used: left to whoever looks after it
        destination.delete(destinations.sidecar_name(backup.file_name))
        destination.delete(backup.file_name)
        Backup.objects.filter(pk=backup.pk).delete()
        removed += 1
    # Failed attempts are kept as long as incrementals, for the record.
    from .engine import current_settings

    cutoff = (now or timezone.now()) - dt.timedelta(days=current_settings().keep_incremental_days)
    Backup.objects.filter(status=BackupStatus.FAILED, started_at__lt=cutoff).delete()
    return removed
