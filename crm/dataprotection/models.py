"""Privacy requests (export, correct, erase), the people erased, the suppression list, retention rules,
and backups (their settings, recipients and the record of each backup)."""

from __future__ import annotations

from datetime import time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.querysets import ScopedQuerySet

from .backup.choices import BackupKind, BackupStatus, DestinationKind, FullFrequency, VerifyLevel, VerifyStatus
from .choices import RequestKind, RequestStatus, RetentionAction

DUE_DAYS = 30


def default_due() -> object:
    return timezone.now() + timedelta(days=DUE_DAYS)


class PrivacyRequest(models.Model):
    """A person asked what the CRM holds about them, to correct it or to erase it. Answered within
    ``DUE_DAYS`` days; who handled it, when and with what outcome is kept.

    ``outcome`` holds counts (journaled); ``state`` holds the ids an erasure is working through (not
    journaled: only ids, no personal data).
    """

    access_module = "dataprotection"
    access_data_scoped = False

    kind = models.CharField(_("request"), max_length=8, choices=RequestKind.choices)
    subject_kind = models.CharField(_("person type"), max_length=32)
    subject_id = models.PositiveBigIntegerField(_("person id"))
    subject_label = models.CharField(_("person"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("due"), default=default_due)
    status = models.CharField(_("status"), max_length=8, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True, editable=False)
    job = models.ForeignKey(
        "core.Job", verbose_name=_("job"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="privacyrequest_status_idx"),
            models.Index(fields=["kind", "-created_at"], name="privacyrequest_kind_idx"),
            models.Index(fields=["subject_kind", "subject_id"], name="privacyrequest_subject_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=RequestKind.values), name="privacyrequest_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values), name="privacyrequest_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.subject_label}"

    def get_absolute_url(self) -> str:
        return reverse("dataprotection:request_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status == RequestStatus.DONE

    @property
    def is_overdue(self) -> bool:
        return not self.is_finished and self.due_at < timezone.now()


class ErasureRecord(models.Model):
    """A person erased: kept apart from the data it describes so that restoring an older backup can
    erase them again (``services.reapply_erasures``). Holds ids and keyed hashes only."""

    subject_kind = models.CharField(_("person type"), max_length=32)
    subject_id = models.PositiveBigIntegerField(_("person id"))
    email_hashes = models.JSONField(default=list, blank=True)
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    request = models.ForeignKey(
        PrivacyRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="erasures"
    )

    class Meta:
        verbose_name = _("erased person")
        verbose_name_plural = _("erased people")
        ordering = ["-erased_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_id"], name="erasurerecord_subject_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.subject_id}"


class SuppressedEmail(models.Model):
    """An email address that must not be imported or signed up for marketing again, kept as a keyed
    hash (``crm.core.privacy.email_hash``), never in clear."""

    email_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed email address")
        verbose_name_plural = _("suppressed email addresses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email_hash[:12]


class RetentionRule(models.Model):
    """Records of one type (a ``crm.core.privacy.RetentionTarget``) inactive for ``months`` are deleted or
    anonymised. One rule per record type; an inactive rule is kept but never applied."""

    access_module = "dataprotection"
    access_data_scoped = False

    record_type = models.CharField(_("record type"), max_length=32, unique=True)
    months = models.PositiveSmallIntegerField(
        _("months inactive"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    action = models.CharField(_("action"), max_length=12, choices=RetentionAction.choices)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["record_type"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=RetentionAction.values), name="retentionrule_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(months__gte=1, months__lte=600), name="retentionrule_months_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} · {self.months}"

    def get_absolute_url(self) -> str:
        return reverse("dataprotection:retention_edit", args=[self.pk])


class RetentionRun(models.Model):
    """One application of a retention rule (or a dry run of it): when, by whom (nobody: the daily
    schedule), the cut-off, and how many records it found, changed and skipped."""

    rule = models.ForeignKey(
        RetentionRule, verbose_name=_("rule"), on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    record_type = models.CharField(_("record type"), max_length=32)
    action = models.CharField(_("action"), max_length=12, choices=RetentionAction.choices)
    months = models.PositiveSmallIntegerField(_("months inactive"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    cutoff = models.DateTimeField(_("inactive since before"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=RequestStatus.choices, default=RequestStatus.RUNNING)
    matched = models.PositiveIntegerField(_("records found"), default=0)
    changed = models.PositiveIntegerField(_("records changed"), default=0)
    skipped = models.PositiveIntegerField(_("records skipped"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    job = models.ForeignKey(
        "core.Job", verbose_name=_("job"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type} · {self.started_at:%Y-%m-%d %H:%M}"


# --- backups (crm.dataprotection.backup) -------------------------------------------------------------


class BackupSettings(models.Model):
    """When backups run, how long they are kept and where they go (one row). The destination's own
    address and credentials come from the environment (``CRM_BACKUP_*``), never from this table."""

    access_module = "dataprotection"
    access_data_scoped = False

    enabled = models.BooleanField(_("scheduled backups"), default=True)
    full_frequency = models.CharField(
        _("full backup"), max_length=8, choices=FullFrequency.choices, default=FullFrequency.DAILY
    )
    full_time = models.TimeField(_("at"), default=time(2, 0))
    full_weekday = models.PositiveSmallIntegerField(
        _("on"), default=6, validators=[MaxValueValidator(6)], help_text=_("Weekly backups only.")
    )
    incremental_minutes = models.PositiveIntegerField(
        _("incremental backup every (minutes)"), default=60, validators=[MaxValueValidator(24 * 60)]
    )
    keep_fulls = models.PositiveSmallIntegerField(
        _("full backups kept"), default=7, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    keep_incremental_days = models.PositiveSmallIntegerField(
        _("days of incremental backups kept"), default=14, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    destination = models.CharField(
        _("destination"), max_length=8, choices=DestinationKind.choices, default=DestinationKind.LOCAL
    )
    # Set when data changed in a way the journal does not show (a key rotation): the next backup is full.
    full_required = models.CharField(max_length=200, blank=True, default="", editable=False)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("backup settings")
        verbose_name_plural = _("backup settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="backupsettings_single_row"),
            models.CheckConstraint(
                condition=models.Q(full_frequency__in=FullFrequency.values), name="backupsettings_frequency_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(destination__in=DestinationKind.values), name="backupsettings_destination_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Backup settings"))


class BackupRecipient(models.Model):
    """An administrator's public key (age X25519): every backup is encrypted to each recipient, and only
    the matching private key, kept off the server, can read it."""

    access_module = "dataprotection"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(_("public key"), max_length=100, unique=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("backup recipient")
        verbose_name_plural = _("backup recipients")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Backup(models.Model):
    """One backup file: a full snapshot or the changes since the backup before it in its chain.

    The row is written ``running`` before any data is read and marked ``complete`` only once the
    encrypted file is stored under its final name, so a backup cut short is never listed as good.
    ``manifest`` is the manifest inside the file (schema, journal position, per-table counts and
    checksums) without anything personal.
    """

    access_module = "dataprotection"
    access_data_scoped = False

    uid = models.CharField(_("backup"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=BackupKind.choices)
    status = models.CharField(_("state"), max_length=8, choices=BackupStatus.choices, default=BackupStatus.RUNNING)
    chain = models.CharField(_("chain"), max_length=64, db_index=True)
    sequence = models.PositiveIntegerField(_("place in chain"), default=0)
    parent = models.ForeignKey(
        "self", verbose_name=_("previous backup"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    snapshot_at = models.DateTimeField(_("data as of"), null=True, blank=True)
    journal_position = models.BigIntegerField(_("journal position"), default=0)
    engine = models.CharField(_("database"), max_length=16, blank=True)
    destination = models.CharField(_("destination"), max_length=300, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.BigIntegerField(_("size"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    job = models.ForeignKey(
        "core.Job", verbose_name=_("job"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verify_status = models.CharField(
        _("verification"), max_length=8, choices=VerifyStatus.choices, blank=True, default=VerifyStatus.NONE
    )
    verify_level = models.CharField(_("checked"), max_length=8, choices=VerifyLevel.choices, blank=True)
    verify_message = models.CharField(_("verification result"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "kind", "-started_at"], name="backup_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=BackupKind.values), name="backup_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=BackupStatus.values), name="backup_status_valid"),
        ]

    def __str__(self) -> str:
        return self.uid


class BackupDigest(models.Model):
    """What the incremental after ``backup`` compares tables against: per row, a short hash of the
    columns the change journal does not record (bookkeeping values, tables without a journal). The
    backup machinery's own state: never backed up itself."""

    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="digests")
    table = models.CharField(max_length=100)
    data = models.BinaryField()

    class Meta:
        verbose_name = _("backup digest")
        verbose_name_plural = _("backup digests")
        constraints = [models.UniqueConstraint(fields=["backup", "table"], name="backupdigest_table_unique")]

    def __str__(self) -> str:
        return f"{self.backup_id} {self.table}"
