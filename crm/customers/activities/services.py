"""Every write of activities, tasks and calendar feeds: keyword-only, atomic, permission-checked.

A linked contact or company must be visible to the actor (no probing of hidden ids). The journal
records each change (the models are registered in ``registration.register``).
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.accounts.models import hash_secret
from crm.core import access
from crm.core.services import notification_create
from crm.core.versioning import save_versioned

from .. import selectors as customer_selectors
from ..choices import ActivityDirection, ActivityKind, TaskPriority, TaskStatus
from ..models import Activity, CalendarFeed, Company, Contact, Task
from ..models.activities import CONTACT_KINDS
from .mentions import notify_mentions

logger = logging.getLogger(__name__)

MODULE = "customers"
RECORD_FIELDS = ("contact", "company")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ActivityKind.NOTE: ("subject", "body", "occurred_at"),
    ActivityKind.CALL: ("subject", "body", "occurred_at", "direction", "duration", "outcome"),
    ActivityKind.MEETING: ("subject", "body", "starts_at", "ends_at", "location"),
    ActivityKind.EMAIL: ("subject", "body", "occurred_at", "direction"),
}
ACTIVITY_FIELDS = frozenset(field for fields in KIND_FIELDS.values() for field in fields) | set(RECORD_FIELDS)
TASK_FIELDS = ("title", "notes", "due_at", "priority", "status", "assignee", "reminder_at", "contact", "company")


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


def _check_records(actor: Any, obj: Activity | Task) -> None:
    """The contact and company linked to ``obj`` must be visible to the actor."""
    if (
        obj.contact_id is not None
        and not customer_selectors.contact_list(user=actor).filter(pk=obj.contact_id).exists()
    ):
        raise ValidationError({"contact": _("Select a valid choice.")})
    if (
        obj.company_id is not None
        and not customer_selectors.company_list(user=actor).filter(pk=obj.company_id).exists()
    ):
        raise ValidationError({"company": _("Select a valid choice.")})


def _record_team(obj: Activity | Task) -> Any:
    """The team of the record an activity or task is about: that team sees it too."""
    if obj.contact_id is not None:
        return Contact.objects.filter(pk=obj.contact_id).values_list("team", flat=True).first()
    if obj.company_id is not None:
        return Company.objects.filter(pk=obj.company_id).values_list("team", flat=True).first()
    related = getattr(obj, "related", None)
    return getattr(related, "team_id", None)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


# --- activities ------------------------------------------------------------------------------------


def _apply_activity(activity: Activity, data: dict[str, Any]) -> list[str]:
    """Set the fields of ``data`` that the activity's type uses; returns the names of fields set."""
    unknown = set(data) - ACTIVITY_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    used = set(KIND_FIELDS[activity.kind]) | set(RECORD_FIELDS)
    foreign = {name for name, value in data.items() if name not in used and not _empty(value)}
    if foreign:
        raise ValidationError({name: _("Not used for this type of activity.") for name in sorted(foreign)})
    changed: list[str] = []
    for name, value in data.items():
        if name in used:
            if name == "body":
                value = value or ""  # Markdown: leading spaces and line breaks matter
            elif name in {"subject", "location", "direction", "outcome"}:
                value = (value or "").strip()
            setattr(activity, name, value)
            changed.append(name)
    # Fields of other types stay empty (the time of a meeting is its start, set below); defaults that
    # make a call or an email complete.
    for name in sorted(ACTIVITY_FIELDS - used - {"occurred_at"}):
        blank: Any = None if name in {"duration", "starts_at", "ends_at"} else ""
        if getattr(activity, name) != blank:
            setattr(activity, name, blank)
            changed.append(name)
    if activity.kind in {ActivityKind.CALL, ActivityKind.EMAIL} and not activity.direction:
        activity.direction = ActivityDirection.OUTBOUND
        changed.append("direction")
    if activity.kind == ActivityKind.MEETING and activity.starts_at is not None:
        activity.occurred_at = activity.starts_at
        changed.append("occurred_at")
    if activity.occurred_at is None:
        activity.occurred_at = timezone.now()
        changed.append("occurred_at")
    return list(dict.fromkeys(changed))


def _set_attendees(activity: Activity, attendees: Any) -> None:
    if activity.kind != ActivityKind.MEETING:
        if attendees:
            raise ValidationError({"attendees": _("Not used for this type of activity.")})
        if activity.pk and activity.attendees.exists():
            activity.attendees.clear()
        return
    if attendees is None:
        return
    users = list(attendees)
    if any(not getattr(user, "is_active", False) for user in users):
        raise ValidationError({"attendees": _("Only active colleagues can attend.")})
    activity.attendees.set(users)


def _touch_contact(activity: Activity) -> None:
    """A call, meeting or email that has happened moves the contact's "last contacted" forward."""
    if activity.kind not in CONTACT_KINDS or activity.contact_id is None or activity.occurred_at > timezone.now():
        return
    Contact.objects.filter(pk=activity.contact_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=activity.occurred_at)
    ).update(last_contacted_at=activity.occurred_at)


def _refresh_last_contacted(contact_ids: set[Any]) -> None:
    """Recompute "last contacted" from the contacts' activities (after an edit or a deletion)."""
    now = timezone.now()
    for contact_id in sorted(pk for pk in contact_ids if pk is not None):
        latest = Activity.objects.filter(contact_id=contact_id, kind__in=CONTACT_KINDS, occurred_at__lte=now).aggregate(
            latest=Max("occurred_at")
        )["latest"]
        Contact.objects.filter(pk=contact_id).update(last_contacted_at=latest)


@transaction.atomic
def activity_log(*, actor: Any, data: dict[str, Any]) -> Activity:
    """Log a note, call, meeting or email about a contact and/or a company.

    ``data`` holds ``kind`` and the fields of that kind (see ``KIND_FIELDS``), ``contact`` and/or
    ``company``, and for meetings ``attendees`` (users). Colleagues @mentioned in the text are told.
    ``related`` is a record of a higher module the activity is also about (a lead, a deal); the
    module that passes it has already checked that the actor may see it.
    """
    _require(actor, "create")
    data = dict(data)
    kind = data.pop("kind", None)
    attendees = data.pop("attendees", None)
    related = data.pop("related", None)
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": _("Choose the type of activity.")})
    activity = Activity(kind=kind, owner=actor)
    if related is not None:
        activity.related = related
    _apply_activity(activity, data)
    _check_records(actor, activity)
    activity.team_id = _record_team(activity)
    activity.full_clean()
    activity.save()
    _set_attendees(activity, attendees)
    _touch_contact(activity)
    notify_mentions(activity=activity, actor=actor)
    return activity


@transaction.atomic
def activity_update(*, actor: Any, activity: Activity, data: dict[str, Any], version: int | None) -> Activity:
    """Edit an activity; its type stays what it was. Newly @mentioned colleagues are told."""
    _require(actor, "edit")
    data = dict(data)
    attendees = data.pop("attendees", None)
    if "kind" in data and data.pop("kind") != activity.kind:
        raise ValidationError({"kind": _("The type of an activity cannot be changed.")})
    before_body = activity.body
    before_contact = activity.contact_id
    records_before = (activity.contact_id, activity.company_id)
    fields = _apply_activity(activity, data)
    if (activity.contact_id, activity.company_id) != records_before:
        _check_records(actor, activity)
        activity.team_id = _record_team(activity)
        fields.append("team")
    save_versioned(activity, expected_version=version, update_fields=fields)
    _set_attendees(activity, attendees)
    _refresh_last_contacted({before_contact, activity.contact_id})
    notify_mentions(activity=activity, actor=actor, previous_text=before_body)
    return activity


@transaction.atomic
def activity_delete(*, actor: Any, activity: Activity) -> None:
    _require(actor, "delete")
    contact_id = activity.contact_id
    activity.delete()
    _refresh_last_contacted({contact_id})


# --- tasks -----------------------------------------------------------------------------------------


def _apply_task(task: Task, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(TASK_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    changed: list[str] = []
    reminder_before = task.reminder_at
    for name in TASK_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "status":
            if value not in TaskStatus.values:
                raise ValidationError({"status": _("Select a valid choice.")})
            if value != task.status:
                task.status = value
                task.completed_at = timezone.now() if value == TaskStatus.DONE else None
                changed += ["status", "completed_at"]
            continue
        if name in {"title", "notes"}:
            value = (value or "").strip()
        if name == "priority" and not value:
            value = TaskPriority.NORMAL
        setattr(task, name, value)
        changed.append(name)
    if "reminder_at" in changed and task.reminder_at != reminder_before:
        task.reminded_at = None  # a new reminder time: remind again
        changed.append("reminded_at")
    return list(dict.fromkeys(changed))


def _check_assignee(task: Task) -> None:
    assignee = task.assignee
    if not assignee.is_active or not access.can(assignee, MODULE, "view"):
        raise ValidationError({"assignee": _("This person cannot work on customers' tasks.")})


def _notify_assignee(task: Task, actor: Any) -> None:
    assignee = task.assignee
    if assignee.pk == getattr(actor, "pk", None):
        return
    with translation.override(assignee.language or settings.LANGUAGE_CODE):
        notification_create(
            recipient=assignee,
            title=_("%(actor)s gave you a task: %(title)s") % {"actor": str(actor), "title": task.title},
            body=str(task.record or ""),
            url=task.get_absolute_url(),
        )


@transaction.atomic
def task_create(*, actor: Any, data: dict[str, Any]) -> Task:
    """Create a task, assigned to the actor unless ``data["assignee"]`` names someone else."""
    _require(actor, "create")
    data = {k: v for k, v in data.items() if not (k == "assignee" and v is None)}
    task = Task(owner=actor, assignee=actor)
    _apply_task(task, data)
    _check_records(actor, task)
    _check_assignee(task)
    task.team_id = _record_team(task)
    task.full_clean()
    task.save()
    _notify_assignee(task, actor)
    return task


@transaction.atomic
def task_update(*, actor: Any, task: Task, data: dict[str, Any], version: int | None) -> Task:
    _require(actor, "edit")
    data = {k: v for k, v in data.items() if not (k == "assignee" and v is None)}
    assignee_before = task.assignee_id
    records_before = (task.contact_id, task.company_id)
    fields = _apply_task(task, data)
    if (task.contact_id, task.company_id) != records_before:
        _check_records(actor, task)
        task.team_id = _record_team(task)
        fields.append("team")
    if task.assignee_id != assignee_before:
        _check_assignee(task)
    save_versioned(task, expected_version=version, update_fields=fields)
    if task.assignee_id != assignee_before:
        _notify_assignee(task, actor)
    return task


@transaction.atomic
def task_complete(*, actor: Any, task: Task) -> Task:
    """Mark a task done (once: completing a done task changes nothing)."""
    _require(actor, "edit")
    if task.status == TaskStatus.DONE:
        return task
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    return save_versioned(task, expected_version=None, update_fields=["status", "completed_at"])


@transaction.atomic
def task_reopen(*, actor: Any, task: Task) -> Task:
    _require(actor, "edit")
    if task.status == TaskStatus.OPEN:
        return task
    task.status = TaskStatus.OPEN
    task.completed_at = None
    return save_versioned(task, expected_version=None, update_fields=["status", "completed_at"])


@transaction.atomic
def task_delete(*, actor: Any, task: Task) -> None:
    _require(actor, "delete")
    task.delete()


# --- reminders -------------------------------------------------------------------------------------


def task_reminders_send(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send the reminders that are due: a notification in the bell and an email to the assignee.

    Each task is claimed with ``UPDATE ... WHERE reminded_at IS NULL`` before anything is sent, so a
    reminder goes out once even when two runs overlap or a run is repeated.
    """
    now = now or timezone.now()
    due = list(
        Task.objects.filter(status=TaskStatus.OPEN, reminded_at__isnull=True, reminder_at__lte=now)
        .order_by("reminder_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for task_id in due:
        with transaction.atomic():
            # A plain UPDATE (not journaled): "reminder sent" is bookkeeping, not customer data.
            claimed = models.QuerySet.update(
                Task.objects.filter(pk=task_id, status=TaskStatus.OPEN, reminded_at__isnull=True), reminded_at=now
            )
            if not claimed:
                continue
            task = Task.objects.select_related("assignee", "contact", "company").get(pk=task_id)
            if not task.assignee.is_active:
                continue
            message = _reminder_message(task)
            notification_create(
                recipient=task.assignee, title=message["title"], body=message["summary"], url=message["path"]
            )
        sent += 1
        if task.assignee.email:
            try:
                send_mail(message["subject"], message["body"], None, [task.assignee.email])
            except Exception:  # the bell has it; a mail server being down must not stop other reminders
                logger.exception("Could not email the reminder of task %s", task_id)
    return sent


def _reminder_message(task: Task) -> dict[str, str]:
    """The reminder's texts in the assignee's language, with times in the assignee's time zone."""
    from crm.accounts.services import absolute_url

    user = task.assignee
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(zone):
        path = task.get_absolute_url()
        context = {"task": task, "user": user, "url": absolute_url(path), "record": task.record}
        return {
            "title": _("Reminder: %(title)s") % {"title": task.title},
            "subject": _("Reminder: %(title)s") % {"title": task.title},
            "summary": str(task.record or ""),
            "body": render_to_string("customers/activities/reminder_email.txt", context),
            "path": path,
        }


# --- calendar feeds ---------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_create(*, user: Any) -> tuple[CalendarFeed, str]:
    """A new personal feed; the user's previous feed stops working. Returns the feed and its secret,
    which is never stored and cannot be shown again."""
    import secrets

    _require(user, "view")
    calendar_feed_revoke(user=user)
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user_id=user.pk, token_hash=hash_secret(secret))
    return feed, secret


@transaction.atomic
def calendar_feed_revoke(*, user: Any) -> int:
    """Stop the user's feed URL from working; returns how many feeds were revoked."""
    return CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def calendar_feed_touch(*, feed: CalendarFeed) -> None:
    """Note when a calendar program last fetched the feed (at most one write an hour)."""
    now = timezone.now()
    if feed.last_used_at is None or feed.last_used_at < now - timedelta(hours=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
