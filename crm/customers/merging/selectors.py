"""Every read of duplicates and merges, scoped to the user: a pair is listed only when the user sees both
records; a merge only when the user sees the record the others were merged into (administrators: all)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import ngettext

from crm.core import access

from ..models import Company, Contact, DuplicateCandidate, Merge
from ..models.contacts import compose_contact_name
from ..phones import try_normalize_phone
from ..services import domain_from_website
from . import relations
from .fields import ENTITIES

MODULE = "customers"


def _visible(model: type[Any], user: Any) -> QuerySet[Any]:
    return model.objects.visible_to(user)  # type: ignore[no-any-return]


# --- pairs ------------------------------------------------------------------------------------------------


def duplicate_list(*, user: Any, entity: str = "contact", status: str = "open") -> QuerySet[DuplicateCandidate]:
    """Pairs of one kind of record in one state whose two records the user can both see."""
    model = ENTITIES.get(entity)
    if model is None or not access.can(user, MODULE, "view"):
        return DuplicateCandidate.objects.none()
    pairs = DuplicateCandidate.objects.filter(entity=entity, status=status)
    if access.scope_filter(model, user) is not None:
        visible = _visible(model, user).values("pk")
        pairs = pairs.filter(**{f"{entity}_a__in": visible, f"{entity}_b__in": visible})
    return pairs


def with_records(candidates: Iterable[DuplicateCandidate]) -> list[DuplicateCandidate]:
    """The same pairs (a page of them), in the same order, with both records and their company and
    owner loaded in one query. Pages are cut on the bare pairs first, so the joins run for one page only."""
    ids = [candidate.pk for candidate in candidates]
    loaded = DuplicateCandidate.objects.filter(pk__in=ids).select_related(
        "contact_a__company",
        "contact_a__owner",
        "contact_b__company",
        "contact_b__owner",
        "company_a__owner",
        "company_b__owner",
    )
    by_id = {candidate.pk: candidate for candidate in loaded}
    return [by_id[pk] for pk in ids if pk in by_id]


def duplicate_get(*, user: Any, pk: Any) -> DuplicateCandidate | None:
    """One pair, when the user can see both its records."""
    candidate = DuplicateCandidate.objects.filter(pk=pk).first()
    model = ENTITIES.get(candidate.entity) if candidate is not None else None
    if candidate is None or model is None or not access.can(user, MODULE, "view"):
        return None
    ids = {getattr(candidate, f"{candidate.entity}_a_id"), getattr(candidate, f"{candidate.entity}_b_id")}
    return candidate if _visible(model, user).filter(pk__in=ids).count() == len(ids) else None


@dataclass
class PairView:
    """A pair ready to show: its row and its two records."""

    candidate: DuplicateCandidate
    first: Any
    second: Any


def pair_views(candidates: Iterable[DuplicateCandidate]) -> list[PairView]:
    views = []
    for candidate in with_records(candidates):
        prefix = candidate.entity
        views.append(PairView(candidate, getattr(candidate, f"{prefix}_a"), getattr(candidate, f"{prefix}_b")))
    return views


# --- records about to be merged ------------------------------------------------------------------------


def merge_records(*, user: Any, entity: str, ids: Sequence[int]) -> list[Any]:
    """The records to merge, in the order given; 404 when any is missing or outside the user's scope."""
    model = ENTITIES[entity]
    records = _visible(model, user).filter(pk__in=list(ids))
    if model is Contact:
        records = records.select_related("company", "owner", "team").prefetch_related("emails", "phones", "tags")
    else:
        records = records.select_related("parent", "owner", "team").prefetch_related("tags")
    found = {record.pk: record for record in records}
    if len(found) != len(set(ids)):
        raise Http404
    return [found[pk] for pk in ids]


def related_counts(*, entity: str, ids: Sequence[int]) -> dict[int, list[str]]:
    """For each record, how many rows of each kind point at it (what will move), as text ("3 activities"):
    one query per relation."""
    model = ENTITIES[entity]
    counts: dict[int, list[str]] = {pk: [] for pk in ids}
    for relation in relations.relations_to(model):
        if relation.many:
            continue
        opts = relation.model._meta
        column = relations.attname(relation.model, relation.field)
        rows = (
            relations.rows(relation.model)
            .filter(**{f"{relation.field}__in": list(ids)})
            .values(column)
            .annotate(n=Count("pk"))
            .values_list(column, "n")
        )
        for pk, count in rows:
            if not count:
                continue
            if relation.model is model:
                text = ngettext("%(count)d subsidiary", "%(count)d subsidiaries", count) % {"count": count}
            else:
                name = opts.verbose_name if count == 1 else opts.verbose_name_plural
                text = f"{count} {name}"
            counts[pk].append(text)
    return counts


# --- merges ----------------------------------------------------------------------------------------------


def merge_list(*, user: Any, entity: str | None = None) -> QuerySet[Merge]:
    if not access.can(user, MODULE, "view"):
        return Merge.objects.none()
    merges = Merge.objects.select_related("actor", "undone_by")
    if entity is not None:
        merges = merges.filter(entity=entity)
    from .undo import is_admin

    if is_admin(user):
        return merges
    condition = Q()
    for name, model in ENTITIES.items():
        visible = _visible(model, user).values("pk")
        condition |= Q(entity=name, survivor_id__in=visible)
    return merges.filter(condition)


def undoable(*, user: Any, merges: Sequence[Merge]) -> set[int]:
    """Ids of the merges ``user`` can undo now, for a page of merges: two queries per kind of record
    (are the survivors still there, are the merged ids still free) instead of two per merge."""
    from datetime import timedelta

    from django.utils import timezone

    from .undo import UNDO_DAYS, may_undo

    cutoff = timezone.now() - timedelta(days=UNDO_DAYS)
    open_merges = [
        merge
        for merge in merges
        if merge.undone_at is None and merge.created_at >= cutoff and may_undo(actor=user, merge=merge)
    ]
    found: set[int] = set()
    for entity, model in ENTITIES.items():
        mine = [merge for merge in open_merges if merge.entity == entity]
        if not mine:
            continue
        alive = set(model._base_manager.filter(pk__in=[m.survivor_id for m in mine]).values_list("pk", flat=True))
        taken = set(
            model._base_manager.filter(pk__in=[pk for m in mine for pk in m.merged_ids]).values_list("pk", flat=True)
        )
        found |= {m.pk for m in mine if m.survivor_id in alive and not taken.intersection(m.merged_ids)}
    return found


def merge_get(*, user: Any, pk: Any) -> Merge | None:
    return merge_list(user=user).filter(pk=pk).first()


def survivors(merges: Sequence[Merge]) -> dict[tuple[str, int], Any]:
    """The records the merges went into, by (entity, id), in one query per kind of record."""
    found: dict[tuple[str, int], Any] = {}
    for entity, model in ENTITIES.items():
        ids = [merge.survivor_id for merge in merges if merge.entity == entity]
        if ids:
            for record in model._base_manager.filter(pk__in=ids):
                found[(entity, record.pk)] = record
    return found


def record_merges(*, user: Any, record: Any, limit: int = 5) -> list[Merge]:
    """The latest merges into ``record`` (which the user can already see)."""
    entity = "contact" if isinstance(record, Contact) else "company"
    if not access.can(user, MODULE, "view"):
        return []
    return list(
        Merge.objects.filter(entity=entity, survivor_id=record.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


# --- the warning on the create and edit forms --------------------------------------------------------------


@dataclass
class Match:
    record: Any
    reasons: list[str]


def contact_matches(*, user: Any, data: Any, exclude: int | None = None, limit: int = 5) -> list[Match]:
    """Visible contacts that the contact form's values (``data``: the form's POST) may duplicate."""
    from ..io.duplicates import Candidate, find_contact_matches

    emails = tuple(
        str(value).strip().lower()
        for key, value in data.items()
        if key.startswith("emails-") and key.endswith("-email") and "@" in str(value)
    )
    phones = tuple(
        number
        for key, value in data.items()
        if key.startswith("phones-") and key.endswith("-number")
        for number in [try_normalize_phone(str(value))]
        if number
    )
    name = compose_contact_name(
        str(data.get("full_name") or ""), str(data.get("first_name") or ""), str(data.get("last_name") or "")
    )
    company = str(data.get("company") or "").strip()
    company_id = int(company) if company.isdigit() and len(company) < 19 else None
    candidate = Candidate(emails=emails[:20], phones=phones[:20], name=name, company_id=company_id)
    hits = find_contact_matches(user=user, candidate=candidate, exclude=exclude, limit=limit)
    records = _visible(Contact, user).select_related("company").in_bulk([hit.pk for hit in hits])
    return [Match(records[hit.pk], hit.reasons) for hit in hits if hit.pk in records]


def company_matches(*, user: Any, data: Any, exclude: int | None = None, limit: int = 5) -> list[Match]:
    """Visible companies that the company form's values may duplicate."""
    from ..io.duplicates import find_company_matches

    website = str(data.get("website") or "").strip()[:300]
    domain = str(data.get("domain") or "").strip().lower()[:253] or (domain_from_website(website) if website else "")
    phone = try_normalize_phone(str(data.get("phone") or "")[:40]) or ""
    name = str(data.get("name") or "").strip()[:200]
    hits = find_company_matches(user=user, name=name, domain=domain, phone=phone, exclude=exclude, limit=limit)
    records = _visible(Company, user).in_bulk([hit.pk for hit in hits])
    return [Match(records[hit.pk], hit.reasons) for hit in hits if hit.pk in records]
