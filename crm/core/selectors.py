"""Every read of the platform: the journal (audit log, record history), jobs, notifications, search."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from . import access
from .choices import JournalAction
from .models import Job, JournalEntry, Notification
from .registry import SearchResult, platform


def journal_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[JournalEntry]:
    """The audit log: every journal entry, for users whose role may view the audit log."""
    if not access.can(user, "audit", "view"):
        return JournalEntry.objects.none()
    return JournalEntry.objects.select_related("content_type")


def record_history(*, user: Any, obj: Any) -> QuerySet[JournalEntry]:
    """A record's own history, for anyone who may see the record (checked by the caller's lookup)."""
    content_type = ContentType.objects.get_for_model(type(obj)._meta.concrete_model)
    return (
        JournalEntry.objects.filter(content_type=content_type, object_id=str(obj.pk))
        .exclude(action=JournalAction.VIEW)
        .order_by("-id")
    )


def job_get(*, user: Any, job_id: Any) -> Job | None:
    """A person sees their own jobs only."""
    return Job.objects.filter(pk=job_id, created_by=user).first()


def job_list(*, user: Any) -> QuerySet[Job]:
    return Job.objects.filter(created_by=user)


def notification_list(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def search(*, user: Any, query: str, limit: int = 8) -> list[tuple[Any, list[SearchResult]]]:
    """Global search over every registered provider the user may view, grouped by type."""
    query = query.strip()[:200]
    if len(query) < 2:
        return []
    groups = []
    for provider in platform.search.values():
        if not access.can(user, provider.module, "view"):
            continue
        results = provider.search(user=user, query=query, limit=limit)
        if results:
            groups.append((provider.label, sorted(results, key=lambda r: -r.score)[:limit]))
    return groups
