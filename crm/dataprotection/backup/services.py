"""Writes of the backups page: the schedule, the recipients, and starting a backup or a verification
as a job. Every one needs the Data privacy module's permission (edit for settings and recipients,
create to start work); ``actor=None`` is the command line."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.choices import JobStatus
from crm.core.models import Job
from crm.core.services import job_start

from . import crypto, destinations
from .choices import BackupKind, BackupStatus, DestinationKind, FullFrequency

MODULE = "dataprotection"
INCREMENTAL_CHOICES = (0, 15, 30, 60, 120, 240, 360, 720, 1440)
SETTINGS_FIELDS = (
    "enabled",
    "full_frequency",
    "full_time",
    "full_weekday",
    "incremental_minutes",
    "keep_fulls",
    "keep_incremental_days",
    "destination",
)


def _require(actor: Any, action: str) -> None:
    if actor is not None and not access.can(actor, MODULE, action):
        raise PermissionDenied(_("You may not manage backups."))


@transaction.atomic
def backup_settings_update(*, actor: Any, data: dict[str, Any]) -> Any:
    """Change when backups run, how long they are kept and where they go."""
    from ..models import BackupSettings

    _require(actor, "edit")
    row, _created = BackupSettings.objects.select_for_update().get_or_create(pk=1)
    errors: dict[str, list[str]] = {}
    for name in set(data) - set(SETTINGS_FIELDS):
        errors[name] = [_("Unknown field.")]
    for name in SETTINGS_FIELDS:
        if name in data:
            setattr(row, name, data[name])
    if row.full_frequency not in FullFrequency.values:
        errors["full_frequency"] = [_("Choose how often a full backup runs.")]
    if row.incremental_minutes not in INCREMENTAL_CHOICES:
        errors["incremental_minutes"] = [_("Choose one of the intervals offered.")]
    if row.destination not in DestinationKind.values:
        errors["destination"] = [_("Choose a destination.")]
    elif row.destination == DestinationKind.S3 and not destinations.s3_available():
        errors["destination"] = [_("S3 is unavailable: boto3 is not installed (pip install -r requirements/s3.lock).")]
    elif row.destination == DestinationKind.S3 and not destinations.s3_configured():
        errors["destination"] = [_("S3 is not configured: set CRM_BACKUP_S3_BUCKET (and its credentials).")]
    try:
        row.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    row.updated_by = actor
    row.save()
    return row


@transaction.atomic
def backup_recipient_add(*, actor: Any, name: str, public_key: str) -> Any:
    """Encrypt backups from now on to one more administrator's public key (age, ``age1...``)."""
    from ..models import BackupRecipient

    _require(actor, "edit")
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Say whose key this is.")]
    elif len(name) > 100:
        errors["name"] = [_("Keep the name under 100 characters.")]
    try:
        key = crypto.normalise_recipient(public_key)
    except crypto.KeyError_:
        errors["public_key"] = [_("Paste an age public key: one line starting with “age1”.")]
    else:
        if BackupRecipient.objects.filter(public_key=key).exists():
            errors["public_key"] = [_("This key is a recipient already.")]
    if errors:
        raise ValidationError(errors)
    return BackupRecipient.objects.create(name=name, public_key=key, added_by=actor)


@transaction.atomic
def backup_recipient_remove(*, actor: Any, recipient: Any) -> None:
    """Stop encrypting new backups to this key (backups already made stay readable with it)."""
    from ..models import BackupRecipient

    _require(actor, "edit")
    if BackupRecipient.objects.count() <= 1:
        raise ValidationError(_("Keep at least one recipient: backups are encrypted to them."))
    BackupRecipient.objects.filter(pk=recipient.pk).delete()


def _running() -> bool:

    from .. import tasks

    active = Job.objects.filter(
        kind__in=[tasks.BACKUP_RUN, tasks.BACKUP_VERIFY], status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    )
    return active.exists()


@transaction.atomic
def backup_start(*, actor: Any, kind: str = BackupKind.FULL) -> Job:
    """Back up now, as a background job with progress."""
    from .. import tasks
    from ..models import BackupRecipient

    _require(actor, "create")
    if kind not in BackupKind.values:
        raise ValidationError(_("Choose a full or an incremental backup."))
    if not BackupRecipient.objects.exists():
        raise ValidationError(_("Add at least one recipient's public key first: backups are encrypted to them."))
    if _running():
        raise ValidationError(_("A backup or a verification is running already."))
    return job_start(kind=tasks.BACKUP_RUN, user=actor, task=tasks.backup_run_job_task, params={"kind": kind})


@transaction.atomic
def backup_verify_start(*, actor: Any) -> Job:
    """Verify the latest chain now, as a background job."""
    from .. import tasks
    from ..models import Backup

    _require(actor, "create")
    if not Backup.objects.filter(status=BackupStatus.COMPLETE).exists():
        raise ValidationError(_("There is no complete backup to verify."))
    if _running():
        raise ValidationError(_("A backup or a verification is running already."))
    return job_start(kind=tasks.BACKUP_VERIFY, user=actor, task=tasks.backup_verify_job_task, params={})
