"""The timeline of a company or contact: everything that happened, newest first, from several sources.

Activities and the record's changes from the journal are the first sources; modules above customers
(deals, tickets, campaigns) add theirs with ``register_source`` in their ``AppConfig.ready()``.

Pages are cut by position, not by offset: the cursor is the last item shown (time, source, id), and
each source is asked for the items strictly after it in the order (time desc, source desc, id desc).
Each source returns at most ``limit + 1`` items; the merged, sorted union cut at ``limit`` is exactly
the next page, so loading more never skips or repeats an item.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.db.models.query import prefetch_related_objects
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from crm.core import access, journal, journal_display
from crm.core import selectors as core_selectors

from ..choices import ActivityKind
from . import selectors

PAGE_SIZE = 20


@dataclass(frozen=True)
class TimelineItem:
    when: datetime
    source: str
    pk: Any
    type: str  # the filter it answers to: "note", "call", ..., "change"
    template: str
    obj: Any


@dataclass(frozen=True)
class Cursor:
    when: datetime
    source: str
    pk: Any

    def encode(self) -> str:
        raw = json.dumps([self.when.isoformat(), self.source, self.pk], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """The cursor in ``text``; ``None`` when it is missing or unreadable (the first page is shown)."""
        if not text or len(text) > 300:
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            when = parse_datetime(raw[0]) if isinstance(raw, list) and len(raw) == 3 else None
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        if when is None or when.tzinfo is None or not isinstance(raw[1], str) or not isinstance(raw[2], (int, str)):
            return None
        return cls(when=when, source=raw[1], pk=raw[2])

    @classmethod
    def of(cls, item: TimelineItem) -> Cursor:
        return cls(when=item.when, source=item.source, pk=item.pk)


def after_cursor(cursor: Cursor | None, *, source: str, when_field: str, id_field: str = "id") -> Q:
    """Rows of ``source`` that come after ``cursor`` in the timeline's order (an index-friendly filter)."""
    if cursor is None:
        return Q()
    if source == cursor.source:
        return Q(**{f"{when_field}__lt": cursor.when}) | Q(**{when_field: cursor.when, f"{id_field}__lt": cursor.pk})
    if source < cursor.source:  # at the same instant this source sorts after the cursor's
        return Q(**{f"{when_field}__lte": cursor.when})
    return Q(**{f"{when_field}__lt": cursor.when})


@dataclass(frozen=True)
class TimelineSource:
    """Where timeline items come from.

    ``fetch(user=, obj=, types=, after=, limit=)`` returns up to ``limit`` items of the record ``obj``
    (already visible to the user) of the wanted ``types``, after the cursor, newest first.
    ``prepare(items)`` does the batch work for the items that made it onto a page (names, prefetches).
    """

    key: str
    types: tuple[tuple[str, Any], ...]
    fetch: Callable[..., list[TimelineItem]]
    prepare: Callable[[list[TimelineItem]], None] | None = None
    module: str = "customers"
    models: tuple[str, ...] = ("customers.contact", "customers.company")
    order: int = 100


_sources: dict[str, TimelineSource] = {}


def register_source(source: TimelineSource) -> None:
    _sources[source.key] = source


def sources_for(model_label: str) -> list[TimelineSource]:
    return sorted((s for s in _sources.values() if model_label in s.models), key=lambda s: s.order)


def type_choices(user: Any, model_label: str) -> list[tuple[str, Any]]:
    """The filters a person can choose on the timeline of this kind of record."""
    return [
        choice
        for source in sources_for(model_label)
        if access.can(user, source.module, "view")
        for choice in source.types
    ]


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None
    types: list[str]

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def timeline_page(
    *, user: Any, obj: Any, types: Iterable[str] = (), after: Cursor | None = None, limit: int = PAGE_SIZE
) -> TimelinePage:
    """One page of the record's timeline for ``user``, who can already see ``obj``."""
    label = obj._meta.label_lower
    known = {value for value, _label in type_choices(user, label)}
    wanted = {t for t in types if t in known}
    collected: list[TimelineItem] = []
    for source in sources_for(label):
        if not access.can(user, source.module, "view"):
            continue
        offered = {value for value, _label in source.types}
        chosen = offered & wanted if wanted else offered
        if chosen:
            collected += source.fetch(user=user, obj=obj, types=chosen, after=after, limit=limit + 1)
    collected.sort(key=lambda item: (item.when, item.source, item.pk), reverse=True)
    page = collected[:limit]
    for source in sources_for(label):
        mine = [item for item in page if item.source == source.key]
        if mine and source.prepare is not None:
            source.prepare(mine)
    next_cursor = Cursor.of(page[-1]).encode() if len(collected) > limit else None
    return TimelinePage(items=page, next_cursor=next_cursor, types=sorted(wanted))


# --- the sources of this module ----------------------------------------------------------------------

ACTIVITY_TEMPLATE = "customers/activities/_item_activity.html"
CHANGE_TEMPLATE = "customers/activities/_item_change.html"


def fetch_activities(*, user: Any, obj: Any, types: set[str], after: Cursor | None, limit: int) -> list[TimelineItem]:
    activities = selectors.record_activities(user=user, obj=obj)
    if types != set(ActivityKind.values):
        activities = activities.filter(kind__in=sorted(types))
    rows = activities.filter(after_cursor(after, source="activity", when_field="occurred_at")).order_by(
        "-occurred_at", "-id"
    )[:limit]
    return [TimelineItem(a.occurred_at, "activity", a.pk, a.kind, ACTIVITY_TEMPLATE, a) for a in rows]


def prepare_activities(items: list[TimelineItem]) -> None:
    meetings = [item.obj for item in items if item.obj.kind == ActivityKind.MEETING]
    if meetings:
        prefetch_related_objects(meetings, "attendees")


def fetch_changes(*, user: Any, obj: Any, types: set[str], after: Cursor | None, limit: int) -> list[TimelineItem]:
    if not journal.is_registered(type(obj)):
        return []
    entries = (
        core_selectors.record_history(user=user, obj=obj)
        .filter(after_cursor(after, source="change", when_field="timestamp"))
        .select_related("content_type")
        .order_by("-timestamp", "-id")[:limit]
    )
    return [TimelineItem(e.timestamp, "change", e.pk, "change", CHANGE_TEMPLATE, e) for e in entries]


def prepare_changes(items: list[TimelineItem]) -> None:
    journal_display.describe(item.obj for item in items)


ACTIVITY_SOURCE = TimelineSource(
    key="activity",
    types=(
        (ActivityKind.NOTE, _("Notes")),
        (ActivityKind.CALL, _("Calls")),
        (ActivityKind.MEETING, _("Meetings")),
        (ActivityKind.EMAIL, _("Emails")),
    ),
    fetch=fetch_activities,
    prepare=prepare_activities,
    order=10,
)
CHANGE_SOURCE = TimelineSource(
    key="change", types=(("change", _("Changes")),), fetch=fetch_changes, prepare=prepare_changes, order=90
)
