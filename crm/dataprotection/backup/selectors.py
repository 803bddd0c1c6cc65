"""Reads of the backups page: the backups, the settings, the recipients and the destination's state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from crm.core import access

from . import destinations
from .choices import DestinationKind

MODULE = "dataprotection"


def backup_list(*, user: Any) -> QuerySet[Any]:
    from ..models import Backup

    if not access.can(user, MODULE, "view"):
        return Backup.objects.none()
    return Backup.objects.select_related("job", "started_by").defer("manifest").order_by("-started_at", "-id")


def backup_settings_get() -> Any:
    from .engine import current_settings

    return current_settings()


def recipient_list(*, user: Any) -> QuerySet[Any]:
    from ..models import BackupRecipient

    if not access.can(user, MODULE, "view"):
        return BackupRecipient.objects.none()
    return BackupRecipient.objects.select_related("added_by").order_by("name", "id")


def destination_status() -> dict[str, Any]:
    """Where backups can go on this installation, for the page."""
    return {
        "local": str(settings.CRM_BACKUP_DIR),
        "s3_available": destinations.s3_available(),
        "s3_configured": destinations.s3_configured(),
        "s3_label": f"s3://{settings.CRM_BACKUP_S3_BUCKET}/{settings.CRM_BACKUP_S3_PREFIX}"
        if destinations.s3_configured()
        else "",
        "verify_identity": bool(getattr(settings, "CRM_BACKUP_VERIFY_IDENTITY", "")),
        "kinds": DestinationKind,
    }


def active_jobs(*, user: Any) -> list[Any]:
    """Backup and verification jobs not finished yet (their progress is shown)."""
    from crm.core.choices import JobStatus
    from crm.core.models import Job

    from .. import tasks

    if not access.can(user, MODULE, "view"):
        return []
    return list(
        Job.objects.filter(
            kind__in=[tasks.BACKUP_RUN, tasks.BACKUP_VERIFY], status__in=[JobStatus.PENDING, JobStatus.RUNNING]
        ).order_by("-created_at")[:5]
    )
