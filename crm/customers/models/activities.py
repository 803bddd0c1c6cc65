"""What happened with a customer (notes, calls, meetings, emails), what is still to do (tasks), and
the personal calendar feeds that carry both into a person's calendar program."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import OwnedModel

from ..choices import ActivityDirection, ActivityKind, CallOutcome, TaskPriority, TaskStatus
from .companies import Company
from .contacts import Contact

# Kinds of activity in which somebody actually talked or wrote to the customer (a note is internal).
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)


MAX_CALL_SECONDS = 24 * 60 * 60  # a day


class Activity(OwnedModel):
    """A note, call, meeting or email about a contact, a company or both.

    Whoever may see its contact or its company sees it (``access_via``), and so does ``owner``, who
    logged it.
    ``body`` is Markdown source, rendered and sanitised whenever it is shown (see ``body_html``).
    ``occurred_at`` orders every timeline; for a meeting it is the meeting's start.
    """

    access_module = "customers"
    access_via = ("contact", "company")

    kind = models.CharField(_("type"), max_length=8, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(
        _("text"), blank=True, help_text=_("Markdown. Mention a colleague with @username to notify them.")
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    # Calls and emails
    direction = models.CharField(_("direction"), max_length=8, choices=ActivityDirection.choices, blank=True)
    # Calls
    duration = models.PositiveIntegerField(
        _("duration (seconds)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_CALL_SECONDS)],  # one bound on every database (and in the API schema)
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices, blank=True)
    # Meetings
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("attendees"), blank=True, related_name="meetings_attended"
    )
    # A record of a higher module the activity is also about (a lead, a deal, a ticket). That module
    # checks access to it and shows the activities on its own pages (``related_to``).
    related_type = models.ForeignKey(
        ContentType, verbose_name=_("related record type"), on_delete=models.PROTECT, null=True, blank=True
    )
    related_id = models.PositiveBigIntegerField(_("related record"), null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-occurred_at", "-id"], name="activity_contact_time_idx"),
            models.Index(fields=["company", "-occurred_at", "-id"], name="activity_company_time_idx"),
            models.Index(fields=["owner", "-occurred_at", "-id"], name="activity_owner_time_idx"),
            models.Index(fields=["team", "-occurred_at", "-id"], name="activity_team_time_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="activity_time_idx"),
            models.Index(fields=["kind", "starts_at"], name="activity_kind_start_idx"),
            models.Index(fields=["related_type", "related_id", "-occurred_at"], name="activity_related_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False) | Q(related_id__isnull=False),
                name="activity_linked_to_any_record",
            ),
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gte=F("starts_at")),
                name="activity_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return str(self.title)

    def get_absolute_url(self) -> str:
        return reverse("customers:activity_detail", args=[self.pk])

    @property
    def title(self) -> Any:
        return self.subject or self.get_kind_display()

    @property
    def record(self) -> Contact | Company | None:
        """The record the activity is shown under first: its contact, otherwise its company."""
        return self.contact or self.company

    @property
    def body_html(self) -> str:
        from ..activities.markdown import render

        return render(self.body)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.contact_id is None and self.company_id is None and self.related_id is None:
            errors["contact"] = _("Choose the contact or the company this is about.")
        if self.kind == ActivityKind.NOTE and not self.body.strip():
            errors["body"] = _("Write the note.")
        if self.kind == ActivityKind.EMAIL and not self.subject.strip():
            errors["subject"] = _("Give the email's subject.")
        if self.kind == ActivityKind.MEETING and self.starts_at is None:
            errors["starts_at"] = _("When does the meeting start?")
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            errors["ends_at"] = _("The meeting cannot end before it starts.")
        if errors:
            raise ValidationError(errors)


class Task(OwnedModel):
    """Something a person has to do, by a date, possibly about a contact or a company.

    The assignee is whose task it is: data scopes look at the assignee (``access_owner_field``), so a
    task is always visible to the person who must do it; ``owner`` is who created it.
    """

    access_module = "customers"
    access_owner_field = "assignee"

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    status = models.CharField(_("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="assigned_tasks"
    )
    reminder_at = models.DateTimeField(_("remind me"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True, editable=False)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at", "id"], name="task_assignee_due_idx"),
            models.Index(fields=["contact", "status", "due_at"], name="task_contact_idx"),
            models.Index(fields=["company", "status", "due_at"], name="task_company_idx"),
            models.Index(fields=["team", "status", "due_at"], name="task_team_idx"),
            models.Index(
                fields=["reminder_at"],
                name="task_reminder_pending_idx",
                condition=Q(reminded_at__isnull=True, status=TaskStatus.OPEN),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="task_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=TaskPriority.values), name="task_priority_valid"),
            models.CheckConstraint(
                condition=Q(status=TaskStatus.OPEN, completed_at__isnull=True)
                | Q(status=TaskStatus.DONE, completed_at__isnull=False),
                name="task_completed_when_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("customers:task_detail", args=[self.pk])

    @property
    def record(self) -> Contact | Company | None:
        return self.contact or self.company

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class CalendarFeed(models.Model):
    """A person's iCalendar feed of their tasks and meetings, for calendar programs to subscribe to.

    The secret in the feed's URL is the only credential: it is shown once and only its hash is kept.
    A person has at most one active feed; revoking it (or making a new one) stops the old URL.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendarfeed_one_active_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
