"""Finding everything the CRM holds about one person: the rows every module declared
(``crm.core.privacy``), the files attached to them, and the journal's entries about them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from crm.core.models import Attachment, JournalEntry
from crm.core.privacy import PersonalData, Subject, privacy
from crm.core.registry import platform

BATCH = 500


def subject_kind(kind: str) -> Subject:
    subject = privacy.subjects.get(kind)
    if subject is None:
        raise LookupError(kind)
    return subject


def subject_object(kind: str, pk: int) -> Any:
    """The person (a contact, a lead...) or ``None`` when the record is gone."""
    subject = privacy.subjects.get(kind)
    if subject is None:
        return None
    return subject.model._base_manager.filter(pk=pk).first()


def chunks(ids: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def declared_ids(kind: str, obj: Any, known: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
    """The ids of the rows each declaration finds about ``obj``, with those found by an earlier run."""
    found: dict[str, list[int]] = {}
    for declaration in privacy.declarations(kind):
        ids = set((known or {}).get(declaration.key, []))
        if obj is not None:
            ids.update(declaration.find(obj).values_list("pk", flat=True))
        found[declaration.key] = sorted(ids)
    return found


def ids_by_model(records: dict[str, list[int]]) -> dict[str, set[int]]:
    """Declaration ids merged by model label (two declarations may name the same model)."""
    merged: dict[str, set[int]] = defaultdict(set)
    for key, ids in records.items():
        declaration = privacy.data.get(key)
        if declaration is not None:
            merged[declaration.model_label].update(ids)
    return merged


def attachment_ids(records: dict[str, list[int]], known: list[int] | None = None) -> list[int]:
    """The files attached to any of the declared rows."""
    ids = set(known or [])
    for label, pks in ids_by_model(records).items():
        if platform.attachment_target(label) is None or not pks:
            continue
        content_type = ContentType.objects.get_for_model(apps.get_model(label))
        for batch in chunks(sorted(pks)):
            ids.update(
                Attachment.objects.filter(content_type=content_type, object_id__in=batch).values_list("pk", flat=True)
            )
    return sorted(ids)


def journal_queries(kind: str, obj_pk: int, records: dict[str, list[int]], attachments: list[int]) -> list[Q]:
    """Filters that together find every journal entry about the person's records: entries of each
    declared row and attachment, and entries naming the person through a declaration's
    ``journal_link`` (rows deleted before the request)."""
    queries: list[Q] = []
    by_model = ids_by_model(records)
    if attachments:
        by_model["core.attachment"] = set(attachments)
    for label, pks in by_model.items():
        content_type = ContentType.objects.get_for_model(apps.get_model(label))
        for batch in chunks(sorted(pks)):
            queries.append(Q(content_type=content_type, object_id__in=[str(pk) for pk in batch]))
    for declaration in privacy.declarations(kind):
        if declaration.journal_link:
            content_type = ContentType.objects.get_for_model(declaration.model)
            link = declaration.journal_link
            queries.append(
                Q(content_type=content_type)
                & (Q(**{f"changes__{link}__0": obj_pk}) | Q(**{f"changes__{link}__1": obj_pk}))
            )
    return queries


def journal_entries(queries: list[Q]) -> Iterator[QuerySet[JournalEntry]]:
    for query in queries:
        yield JournalEntry.objects.filter(query)


def declaration(key: str) -> PersonalData | None:
    return privacy.data.get(key)
