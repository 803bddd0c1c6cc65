"""Reads of privacy requests, of the people they can be about, and of the suppression list."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from crm.core.models import JournalEntry
from crm.core.privacy import privacy

from . import gathering
from .models import PrivacyRequest, SuppressedEmail

MODULE = "dataprotection"
SEARCH_LIMIT = 20


def privacy_request_list(*, user: Any, action: str = "view") -> QuerySet[PrivacyRequest]:
    return PrivacyRequest.objects.visible_to(user, action=action).select_related("requested_by", "handled_by", "job")


def privacy_request_get(*, user: Any, pk: int, action: str = "view") -> PrivacyRequest:
    return privacy_request_list(user=user, action=action).get(pk=pk)


def suppressed_hashes(hashes: list[str]) -> set[str]:
    """Which of these keyed email hashes are on the suppression list (the checker core asks); a few
    hundred per query, so a whole import batch can be asked at once."""
    found: set[str] = set()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        found.update(SuppressedEmail.objects.filter(email_hash__in=chunk).values_list("email_hash", flat=True))
    return found


def subject_search(*, query: str) -> list[tuple[str, Any]]:
    """People matching a name or an exact email address, by kind: ``[(kind, obj), ...]``.

    Used by a privacy officer (the module's permission), so it is not limited to a data scope."""
    query = query.strip()
    if not query:
        return []
    found: list[tuple[str, Any]] = []
    for kind, subject in privacy.subjects.items():
        for obj in subject.search(query).order_by("pk")[:SEARCH_LIMIT]:
            found.append((kind, obj))
    return found


def subject_from_key(key: str) -> tuple[str, Any] | None:
    """``"contact:12"`` -> ("contact", the contact), or ``None``."""
    kind, _sep, raw = (key or "").partition(":")
    if kind not in privacy.subjects or not raw.isdigit():
        return None
    obj = gathering.subject_object(kind, int(raw))
    return (kind, obj) if obj is not None else None


def subject_records(*, request: PrivacyRequest) -> list[tuple[Any, Any]]:
    """The person's records a correction edits: (declaration label, row) for rows with a page."""
    obj = gathering.subject_object(request.subject_kind, request.subject_id)
    if obj is None:
        return []
    rows: list[tuple[Any, Any]] = []
    for declaration in privacy.declarations(request.subject_kind):
        if not hasattr(declaration.model, "get_absolute_url"):
            continue
        for row in declaration.find(obj).order_by("pk")[:SEARCH_LIMIT]:
            rows.append((declaration.model._meta.verbose_name, row))
    return rows


def corrections_since(*, request: PrivacyRequest) -> QuerySet[JournalEntry]:
    """Journal entries of the person's own record made since the request was received."""
    subject = privacy.subjects.get(request.subject_kind)
    if subject is None:
        return JournalEntry.objects.none()
    content_type = ContentType.objects.get_for_model(subject.model)
    return JournalEntry.objects.filter(
        Q(content_type=content_type, object_id=str(request.subject_id)), timestamp__gte=request.created_at
    ).order_by("id")
