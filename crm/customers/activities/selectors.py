"""Every read of activities, tasks and calendar feeds, scoped through core.access."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.accounts.models import hash_secret
from crm.core import access

from ..choices import ActivityKind, TaskStatus
from ..models import Activity, CalendarFeed, Company, Contact, Task

MODULE = "customers"


def _record_condition(obj: Contact | Company) -> Q:
    """The activities or tasks of a record; a company's include those of its contacts."""
    if isinstance(obj, Company):
        return Q(company_id=obj.pk) | Q(contact_id__in=Contact.objects.filter(company_id=obj.pk).values("pk"))
    return Q(contact_id=obj.pk)


# --- activities ------------------------------------------------------------------------------------


def activity_list(*, user: Any, action: str = "view") -> QuerySet[Activity]:
    return Activity.objects.visible_to(user, action=action).select_related("owner", "contact", "company")


def activity_get(*, user: Any, pk: Any, action: str = "view") -> Activity | None:
    return activity_list(user=user, action=action).filter(pk=pk).first()


def record_activities(*, user: Any, obj: Contact | Company) -> QuerySet[Activity]:
    """The activities of a record the user can already see, that the user may see."""
    return activity_list(user=user).filter(_record_condition(obj))


def related_activities(*, obj: Any) -> QuerySet[Activity]:
    """The activities about a record of a higher module (a lead, a deal), newest first.

    The caller has already found ``obj`` through its own scoped selector: whoever sees the record
    sees what was logged about it, as with a contact's activities.
    """
    return (
        Activity.objects.filter(related_type=ContentType.objects.get_for_model(obj), related_id=obj.pk)
        .select_related("owner", "contact", "company")
        .order_by("-occurred_at", "-id")
    )


# --- tasks -----------------------------------------------------------------------------------------


def task_list(*, user: Any, action: str = "view") -> QuerySet[Task]:
    return Task.objects.visible_to(user, action=action).select_related("assignee", "contact", "company")


def task_get(*, user: Any, pk: Any, action: str = "view") -> Task | None:
    return task_list(user=user, action=action).filter(pk=pk).first()


def record_open_tasks(*, user: Any, obj: Contact | Company) -> QuerySet[Task]:
    return task_list(user=user).filter(_record_condition(obj), status=TaskStatus.OPEN).order_by("due_at", "id")


@dataclass
class TaskGroups:
    """A person's open tasks by when they are due, in their own time zone."""

    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]
    someday: list[Task]  # no due date
    today_date: date

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.upcoming) + len(self.someday)


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants at which ``day`` begins and ends in ``zone`` (daylight saving time included)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def my_task_groups(
    *, user: Any, now: datetime | None = None, zone: tzinfo | None = None, limit: int = 100
) -> TaskGroups:
    """The user's open tasks by due day in ``zone`` (the user's time zone): overdue (due before
    today), today, upcoming (after today), and those without a due date."""
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    today = now.astimezone(zone).date()
    start_of_today, end_of_today = day_bounds(today, zone)
    mine = task_list(user=user).filter(assignee_id=user.pk, status=TaskStatus.OPEN)
    return TaskGroups(
        overdue=list(mine.filter(due_at__lt=start_of_today).order_by("due_at", "id")[:limit]),
        today=list(mine.filter(due_at__gte=start_of_today, due_at__lt=end_of_today).order_by("due_at", "id")[:limit]),
        upcoming=list(mine.filter(due_at__gte=end_of_today).order_by("due_at", "id")[:limit]),
        someday=list(mine.filter(due_at__isnull=True).order_by("-id")[:limit]),
        today_date=today,
    )


def my_open_task_counts(*, user: Any, now: datetime | None = None, zone: tzinfo | None = None) -> dict[str, int]:
    """How many of the user's open tasks are overdue and due today (for the dashboard)."""
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    start_of_today, end_of_today = day_bounds(now.astimezone(zone).date(), zone)
    mine = task_list(user=user).filter(assignee_id=user.pk, status=TaskStatus.OPEN)
    return {
        "overdue": mine.filter(due_at__lt=start_of_today).count(),
        "today": mine.filter(due_at__gte=start_of_today, due_at__lt=end_of_today).count(),
    }


def my_tasks_due_by_end_of_today(
    *, user: Any, now: datetime | None = None, zone: tzinfo | None = None, limit: int = 6
) -> list[Task]:
    """The user's open tasks that are overdue or due today, soonest first."""
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    _start, end_of_today = day_bounds(now.astimezone(zone).date(), zone)
    mine = task_list(user=user).filter(assignee_id=user.pk, status=TaskStatus.OPEN, due_at__lt=end_of_today)
    return list(mine.order_by("due_at", "id")[:limit])


# --- calendar --------------------------------------------------------------------------------------


def my_meetings(*, user: Any) -> QuerySet[Activity]:
    """Meetings the user logged or attends (being invited is what shows a meeting in one's calendar)."""
    if not access.can(user, MODULE, "view"):
        return Activity.objects.none()
    attending = Activity.attendees.through.objects.filter(user_id=user.pk).values("activity_id")
    return (
        Activity.objects.filter(kind=ActivityKind.MEETING, starts_at__isnull=False)
        .filter(Q(owner_id=user.pk) | Q(pk__in=attending))
        .select_related("contact", "company")
    )


def my_dated_tasks(*, user: Any) -> QuerySet[Task]:
    return task_list(user=user).filter(assignee_id=user.pk, due_at__isnull=False)


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    tasks: list[Task] = field(default_factory=list)
    meetings: list[Activity] = field(default_factory=list)


@dataclass
class CalendarMonth:
    year: int
    month: int
    weeks: list[list[CalendarDay]]
    weekday_names: list[int]  # Python weekday numbers (0 = Monday), in display order

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def calendar_month(
    *, user: Any, year: int, month: int, zone: tzinfo, first_weekday: int = 0, today: date | None = None
) -> CalendarMonth:
    """A month grid of the user's tasks (by due date) and meetings (by start), in ``zone``.

    ``first_weekday`` is Python's numbering (0 = Monday, 6 = Sunday).
    """
    grid = calendar.Calendar(firstweekday=first_weekday).monthdatescalendar(year, month)
    start, _end = day_bounds(grid[0][0], zone)
    _start, end = day_bounds(grid[-1][-1], zone)
    today = today or timezone.now().astimezone(zone).date()
    days = {d: CalendarDay(day=d, in_month=d.month == month, is_today=d == today) for week in grid for d in week}
    tasks = my_dated_tasks(user=user).filter(due_at__gte=start, due_at__lt=end).order_by("due_at", "id")[:500]
    for task in tasks:
        assert task.due_at is not None
        days[task.due_at.astimezone(zone).date()].tasks.append(task)
    meetings = my_meetings(user=user).filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at", "id")[:500]
    for meeting in meetings:
        assert meeting.starts_at is not None
        days[meeting.starts_at.astimezone(zone).date()].meetings.append(meeting)
    return CalendarMonth(
        year=year,
        month=month,
        weeks=[[days[d] for d in week] for week in grid],
        weekday_names=[(first_weekday + offset) % 7 for offset in range(7)],
    )


# --- calendar feeds -----------------------------------------------------------------------------------


def calendar_feed_active(*, user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).first()


def calendar_feed_for_secret(*, secret: str) -> CalendarFeed | None:
    """The active feed whose URL holds ``secret``, of an active user; ``None`` otherwise."""
    if not secret or len(secret) > 200:
        return None
    return (
        CalendarFeed.objects.filter(token_hash=hash_secret(secret), revoked_at__isnull=True, user__is_active=True)
        .select_related("user", "user__role")
        .first()
    )


FEED_PAST = timedelta(days=90)
FEED_LIMIT = 2000


def feed_tasks(*, user: Any) -> list[Task]:
    """Open tasks with a due date, for the user's calendar feed."""
    return list(my_dated_tasks(user=user).filter(status=TaskStatus.OPEN).order_by("due_at", "id")[:FEED_LIMIT])


def feed_meetings(*, user: Any, now: datetime | None = None) -> list[Activity]:
    """The user's meetings from three months ago on, for the calendar feed."""
    now = now or timezone.now()
    return list(my_meetings(user=user).filter(starts_at__gte=now - FEED_PAST).order_by("starts_at", "id")[:FEED_LIMIT])
