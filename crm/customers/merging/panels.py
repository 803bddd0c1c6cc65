"""What a survivor's 360 page shows of its merges: a side box with the latest merges (and their Undo),
and timeline items: the merge itself and the history of the records merged into it, whose journal
entries keep their own ids (see ``services``)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core import journal_display
from crm.core.models import JournalEntry

from ..activities.timeline import Cursor, TimelineItem, TimelineSource
from ..models import Contact, Merge
from . import selectors

MERGE_TEMPLATE = "customers/merging/_timeline_merge.html"
MERGED_CHANGE_TEMPLATE = "customers/merging/_timeline_merged_change.html"
SOURCE = "merge"
MAX_MERGES = 50


def _entity(record: Any) -> str:
    return "contact" if isinstance(record, Contact) else "company"


def merges_context(*, user: Any, obj: Any) -> dict[str, Any] | None:
    """The "Merged records" box: shown only on a record others were merged into."""
    merges = selectors.record_merges(user=user, record=obj)
    if not merges:
        return None
    can_undo = selectors.undoable(user=user, merges=merges)
    rows = []
    for merge in merges:
        names = merge.snapshot.get("names", {}) if isinstance(merge.snapshot, dict) else {}
        rows.append(
            {
                "merge": merge,
                "count": len(merge.merged_ids) + 1,
                "names": [names.get(str(pk), f"#{pk}") for pk in merge.merged_ids],
                "can_undo": merge.pk in can_undo,
            }
        )
    return {"merge_rows": rows}


# --- the timeline -------------------------------------------------------------------------------------------


def _before(item: TimelineItem, cursor: Cursor | None) -> bool:
    """Whether ``item`` comes after ``cursor`` in the timeline's order (newest first)."""
    if cursor is None:
        return True
    return (item.when, item.source, str(item.pk)) < (cursor.when, cursor.source, str(cursor.pk))


def fetch_merges(*, user: Any, obj: Any, types: set[str], after: Cursor | None, limit: int) -> list[TimelineItem]:
    entity = _entity(obj)
    merges = list(
        Merge.objects.filter(entity=entity, survivor_id=obj.pk).select_related("actor").order_by("-id")[:MAX_MERGES]
    )
    if not merges:
        return []
    # Keys are strings of equal length, so that they sort like the ids they hold.
    items = [TimelineItem(m.created_at, SOURCE, f"m{m.pk:015d}", SOURCE, MERGE_TEMPLATE, m) for m in merges]
    merged_ids = sorted({str(pk) for m in merges if m.undone_at is None for pk in m.merged_ids})
    if merged_ids:
        content_type = ContentType.objects.get_for_model(type(obj))
        entries = JournalEntry.objects.filter(content_type=content_type, object_id__in=merged_ids)
        if after is not None:
            entries = entries.filter(Q(timestamp__lte=after.when))
        for entry in entries.select_related("content_type").order_by("-timestamp", "-id")[:limit]:
            items.append(
                TimelineItem(entry.timestamp, SOURCE, f"j{entry.pk:015d}", SOURCE, MERGED_CHANGE_TEMPLATE, entry)
            )
    items = [item for item in items if _before(item, after)]
    items.sort(key=lambda item: (item.when, str(item.pk)), reverse=True)
    return items[:limit]


def prepare_merges(items: list[TimelineItem]) -> None:
    entries = [item.obj for item in items if isinstance(item.obj, JournalEntry)]
    if entries:
        journal_display.describe(entries)
    for item in items:
        if isinstance(item.obj, Merge):
            names = item.obj.snapshot.get("names", {}) if isinstance(item.obj.snapshot, dict) else {}
            item.obj.merged_names = [names.get(str(pk), f"#{pk}") for pk in item.obj.merged_ids]  # type: ignore[attr-defined]


MERGE_SOURCE = TimelineSource(
    key=SOURCE,
    types=((SOURCE, _("Merges")),),
    fetch=fetch_merges,
    prepare=prepare_merges,
    order=95,
)
