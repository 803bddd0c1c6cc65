"""A person's iCalendar feed (RFC 5545), written with the ``icalendar`` library.

Meetings are timed events in UTC. Open tasks with a due date are all-day events on the due day in
the person's time zone: calendar programs that subscribe to a feed show events but mostly ignore
to-dos. UIDs are stable (``meeting-<id>@<host>``, ``task-<id>@<host>``) so a program updates an
event in place when it changes, and drops it when it leaves the feed.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from ..choices import TaskPriority
from .markdown import plain_text

DEFAULT_MEETING_LENGTH = timedelta(hours=1)
REFRESH = timedelta(minutes=15)
PRIORITIES = {TaskPriority.HIGH: 1, TaskPriority.NORMAL: 5, TaskPriority.LOW: 9}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _zone(user: Any) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _description(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def build_feed(
    *, user: Any, tasks: Iterable[Any], meetings: Iterable[Any], domain: str, base_url: str, now: datetime | None = None
) -> bytes:
    """The feed's bytes. ``base_url`` (scheme and host) makes the links in it absolute."""
    now = now or timezone.now()
    zone = _zone(user)
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(zone):
        calendar = Calendar()
        calendar.add("prodid", "-//CRM//Tasks and meetings//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("CRM: tasks and meetings of %(name)s") % {"name": str(user)})
        calendar.add("x-wr-timezone", str(zone))
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", REFRESH)
        for meeting in meetings:
            calendar.add_component(_meeting_event(meeting, domain=domain, base_url=base_url, now=now))
        for task in tasks:
            calendar.add_component(_task_event(task, zone=zone, domain=domain, base_url=base_url, now=now))
        return bytes(calendar.to_ical())


def _meeting_event(meeting: Any, *, domain: str, base_url: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"meeting-{meeting.pk}@{domain}")
    event.add("dtstamp", _utc(now))
    event.add("last-modified", _utc(meeting.updated_at))
    event.add("created", _utc(meeting.created_at))
    event.add("sequence", meeting.version)
    event.add("dtstart", _utc(meeting.starts_at))
    event.add("dtend", _utc(meeting.ends_at or meeting.starts_at + DEFAULT_MEETING_LENGTH))
    event.add("summary", str(meeting.title))
    url = base_url + meeting.get_absolute_url()
    records = " · ".join(str(r) for r in (meeting.contact, meeting.company) if r is not None)
    event.add("description", _description(records, plain_text(meeting.body), url))
    if meeting.location:
        event.add("location", meeting.location)
    event.add("url", url)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("categories", [str(_("Meeting"))])
    return event


def _task_event(task: Any, *, zone: zoneinfo.ZoneInfo, domain: str, base_url: str, now: datetime) -> Event:
    due = task.due_at.astimezone(zone)
    event = Event()
    event.add("uid", f"task-{task.pk}@{domain}")
    event.add("dtstamp", _utc(now))
    event.add("last-modified", _utc(task.updated_at))
    event.add("created", _utc(task.created_at))
    event.add("sequence", task.version)
    event.add("dtstart", due.date())
    event.add("dtend", due.date() + timedelta(days=1))
    event.add("summary", _("Task: %(title)s") % {"title": task.title})
    url = base_url + task.get_absolute_url()
    due_text = _("Due %(when)s") % {"when": formats.date_format(due, "SHORT_DATETIME_FORMAT")}
    records = " · ".join(str(r) for r in (task.contact, task.company) if r is not None)
    event.add("description", _description(due_text, records, task.notes, url))
    event.add("url", url)
    event.add("priority", PRIORITIES.get(task.priority, 5))
    event.add("transp", "TRANSPARENT")  # a task does not make the person busy all day
    event.add("categories", [str(_("Task"))])
    return event
