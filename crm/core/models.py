"""Platform models: the bases every domain model stands on, the change journal, jobs and notifications."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ChangeSource, JobStatus, JournalAction
from .journal import JournaledModelMixin
from .querysets import ScopedQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(JournaledModelMixin, TimeStampedModel):
    """A row that detects concurrent edits: every update must name the version it started from."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class OwnedModel(VersionedModel):
    """A row of customer data: it has an owner and a team, which decide who may see it (core.access).

    ``access_module`` names the module whose permissions apply (e.g. "customers").
    """

    access_module: str = ""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class JournalEntry(models.Model):
    """One change to one record: who, when, by which path, and each field's old and new value.

    ``id`` is the journal's sequence number: strictly increasing, never reused.
    """

    id = models.BigAutoField(primary_key=True, verbose_name=_("sequence"))
    timestamp = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,  # not journaled itself
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,  # journal_actor_idx (actor, -id) serves it
    )
    actor_repr = models.CharField(_("who"), max_length=150, blank=True)
    source = models.CharField(_("path"), max_length=16, choices=ChangeSource.choices)
    action = models.CharField(_("action"), max_length=8, choices=JournalAction.choices)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        on_delete=models.PROTECT,
        db_index=False,  # journal_record_idx (content_type, object_id, -id) serves it
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    # The audit chain (crm.core.security.audit_chain): filled in by the sealing step, in id order, so
    # that writing an entry stays one plain INSERT. Empty until the entry is sealed.
    prev_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    entry_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    # SHA-256 of the entry's own fields when it was sealed: the chain links these, so that a privacy
    # erasure may blank an entry's values later without breaking the chain (see security.audit_chain).
    content_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-id"], name="journal_record_idx"),
            models.Index(fields=["actor", "-id"], name="journal_actor_idx"),
            models.Index(fields=["timestamp", "id"], name="journal_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_repr}"


class JournalSeal(models.Model):
    """The head of the audit chain: the last sealed journal entry and its hash (one row)."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True, default="")
    sealed_count = models.BigIntegerField(default=0)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit chain seal")
        verbose_name_plural = _("audit chain seals")

    def __str__(self) -> str:
        return f"#{self.last_id} {self.last_hash[:12]}"


class Job(models.Model):
    """A piece of background work a person started, with its progress and outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    message = models.CharField(_("message"), max_length=255, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.CASCADE, related_name="jobs"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="job_user_idx"),
            models.Index(fields=["status", "created_at"], name="job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"

    @property
    def kind_label(self) -> str:
        """What people see this kind of job called (registered with its task)."""
        from .registry import platform

        return str(platform.job_labels.get(self.kind) or self.kind)

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}


class Notification(models.Model):
    """Something a person should know about, shown in the bell."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.title


def attachment_path(instance: Attachment, filename: str) -> str:
    """Files are stored under a random name (the original name is kept in the row): nothing about a
    customer shows in the storage's paths, and two uploads never collide."""
    from django.utils import timezone

    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file attached to any record (a company, a contact, later a deal or a ticket). Who may see it is
    decided by the record it is attached to."""

    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        on_delete=models.PROTECT,
        db_index=False,  # attachment_record_idx (content_type, object_id, -created_at) serves it
    )
    object_id = models.PositiveBigIntegerField(_("record id"))
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("name"), max_length=255)
    mime_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="attachment_record_idx")]

    def __str__(self) -> str:
        return self.name


class SavedView(TimeStampedModel):
    """A named list view (filters, sort and columns) a person keeps for themselves or shares with a team.

    ``list_key`` names the list, e.g. "customers.contact"; ``query`` is the list's query string
    without page cursors.
    """

    list_key = models.CharField(_("list"), max_length=64)
    name = models.CharField(_("name"), max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("shared with team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        help_text=_("Leave empty to keep the view to yourself."),
    )
    query = models.CharField(_("filters and sort"), max_length=2000, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "list_key", "name"], name="savedview_name_unique")]
        indexes = [
            models.Index(fields=["list_key", "owner"], name="savedview_owner_idx"),
            models.Index(fields=["list_key", "team"], name="savedview_team_idx"),
        ]

    def __str__(self) -> str:
        return self.name
