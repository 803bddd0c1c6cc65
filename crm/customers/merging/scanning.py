"""The duplicates scan: likely pairs across all data, kept as ``DuplicateCandidate`` rows.

Built to run at a million contacts. Shared email addresses and phone numbers are found by grouping the
indexed columns in SQL, a batch of values at a time (keyset on the value), never by reading every row
into Python. Names are compared only within one company: on PostgreSQL by a self-join with pg_trgm's
similarity(), elsewhere with difflib (the same approach as the search), plus the same name written
differently ("王芳" / "王 芳") by name key. Companies pair up by domain, phone and name (case and
spacing ignored; near-miss company names are left to the warning on the form, which asks the trigram
index for one name at a time).

A value shared by very many records (a switchboard number, info@) says nothing about duplicates and
is skipped. The scan is idempotent: found pairs are inserted or refreshed, dismissed pairs stay
dismissed, open pairs that no longer match are removed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.crypto.fields import blind_index_of
from crm.core.postgres import similarity_supported

from ..choices import DuplicateStatus
from ..io.duplicates import (
    DIFFLIB_THRESHOLD,
    REASON_DOMAIN,
    REASON_EMAIL,
    REASON_NAME,
    REASON_PHONE,
    SIMILAR_NAMES_LIMIT,
    TRIGRAM_THRESHOLD,
    name_keys,
    name_similarity,
    score,
)
from ..models import Company, Contact, ContactEmail, ContactPhone, DuplicateCandidate

BATCH = 1000  # values (or companies) per query
MAX_GROUP = 20  # a value shared by more records than this is no sign of a duplicate
WRITE_BATCH = 500
LOCK_KEY = "customers.duplicates_scan.lock"
LAST_SCAN_KEY = "customers.duplicates_scan.last"
REASON_ORDER = {REASON_EMAIL: 0, REASON_DOMAIN: 1, REASON_PHONE: 2, REASON_NAME: 3}

Progress = Callable[[int, str], None]


@dataclass
class Found:
    reasons: set[str] = field(default_factory=set)
    similarity: float = 0.0

    def add(self, reason: str, similarity: float = 0.0) -> None:
        self.reasons.add(reason)
        self.similarity = max(self.similarity, similarity)


Pairs = dict[tuple[int, int], Found]


def _note(pairs: Pairs, first: int, second: int, reason: str, similarity: float = 0.0) -> None:
    if first == second:
        return
    key = (first, second) if first < second else (second, first)
    pairs.setdefault(key, Found()).add(reason, similarity)


def _group_pairs(groups: Iterable[Iterable[int]]) -> Iterator[tuple[int, int]]:
    for group in groups:
        ids = sorted(set(group))
        if 2 <= len(ids) <= MAX_GROUP:
            for index, first in enumerate(ids):
                for second in ids[index + 1 :]:
                    yield first, second


def shared_values(queryset: models.QuerySet[Any], key: Any, owner: str) -> Iterator[list[int]]:
    """Groups of ``owner`` ids (2 to MAX_GROUP) whose rows share a non-empty value of ``key`` (a column
    or an expression), found with GROUP BY ... HAVING on the index, a batch of values at a time."""
    keyed = queryset.annotate(dup_key=key).exclude(dup_key="").exclude(dup_key__isnull=True)
    last: Any = None
    while True:
        page = keyed if last is None else keyed.filter(dup_key__gt=last)
        values = list(
            page.values("dup_key")
            .annotate(rows=Count("*"))
            .filter(rows__gte=2, rows__lte=MAX_GROUP * 2)
            .order_by("dup_key")
            .values_list("dup_key", flat=True)[:BATCH]
        )
        if not values:
            return
        last = values[-1]
        members: dict[Any, list[int]] = defaultdict(list)
        for value, owner_id in keyed.filter(dup_key__in=values).values_list("dup_key", owner):
            members[value].append(owner_id)
        yield from members.values()
        if len(values) < BATCH:
            return


# --- contacts ---------------------------------------------------------------------------------------------


def contact_pairs(progress: Progress | None = None) -> Pairs:
    pairs: Pairs = {}
    for first, second in _group_pairs(shared_values(ContactEmail.objects.all(), F("email"), "contact_id")):
        _note(pairs, first, second, REASON_EMAIL)
    _report(progress, 20, _("Contacts: phone numbers…"))
    for first, second in _group_pairs(
        shared_values(ContactPhone.objects.all(), blind_index_of("number"), "contact_id")
    ):
        _note(pairs, first, second, REASON_PHONE)
    _report(progress, 35, _("Contacts: names within each company…"))
    for first, second, similarity in contact_name_pairs():
        _note(pairs, first, second, REASON_NAME, similarity)
    _report(progress, 60, _("Contacts: saving the pairs…"))
    return pairs


def contact_name_pairs() -> Iterator[tuple[int, int, float]]:
    """Contacts of the same company with similar names, a batch of companies at a time."""
    last = 0
    while True:
        groups = list(
            Contact.objects.filter(company_id__gt=last)
            .values("company_id")
            .annotate(rows=Count("*"))
            .filter(rows__gte=2)
            .order_by("company_id")
            .values_list("company_id", "rows")[:BATCH]
        )
        if not groups:
            return
        last = groups[-1][0]
        small = [company for company, rows in groups if rows <= SIMILAR_NAMES_LIMIT]
        large = [company for company, rows in groups if rows > SIMILAR_NAMES_LIMIT]
        if small:
            yield from _names_within(small)
        if large:
            yield from _same_names_within(large)
        if len(groups) < BATCH:
            return


def _names_within(company_ids: list[int]) -> Iterator[tuple[int, int, float]]:
    if similarity_supported(connection):
        yield from _trigram_pairs(company_ids)
        return
    by_company: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, company_id, name in Contact.objects.filter(company_id__in=company_ids).values_list(
        "pk", "company_id", "name"
    ):
        by_company[company_id].append((pk, name))
    for people in by_company.values():
        by_key: dict[str, list[int]] = defaultdict(list)
        for pk, name in people:
            for key in name_keys(name):
                by_key[key].append(pk)
        for first, second in _group_pairs(by_key.values()):
            yield first, second, 1.0
        for index, (first, first_name) in enumerate(people):
            for second, second_name in people[index + 1 :]:
                similarity = name_similarity(first_name, second_name)
                if DIFFLIB_THRESHOLD <= similarity < 1.0:
                    yield first, second, similarity


def _trigram_pairs(company_ids: list[int]) -> Iterator[tuple[int, int, float]]:
    """Every two contacts of one of these companies whose names are alike: pg_trgm's similarity() of
    the upper-cased names, or the same name but for spaces ("王芳" / "王 芳"), which counts as 1."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    same = "REPLACE(UPPER(a.name), ' ', '') = REPLACE(UPPER(b.name), ' ', '')"
    alike = "similarity(UPPER(a.name), UPPER(b.name))"
    sql = (
        f"SELECT a.id, b.id, CASE WHEN {same} THEN 1.0 ELSE {alike} END FROM {table} a "  # noqa: S608 - names from _meta
        f"JOIN {table} b ON b.company_id = a.company_id AND b.id > a.id "
        # Both sides named by company: the planner then reads just these companies' rows on each side.
        f"WHERE a.company_id = ANY(%s) AND b.company_id = ANY(%s) AND ({same} OR {alike} >= %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_ids, company_ids, TRIGRAM_THRESHOLD])
        for first, second, similarity in cursor.fetchall():
            yield first, second, min(1.0, float(similarity))


def _same_names_within(company_ids: list[int]) -> Iterator[tuple[int, int, float]]:
    """Companies with very many contacts: the same name only, grouped in SQL."""
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    same = (
        Contact.objects.filter(company_id__in=company_ids)
        .annotate(upper_name=Upper("name"))
        .values("company_id", "upper_name")
        .annotate(rows=Count("*"))
        .filter(rows__gte=2, rows__lte=MAX_GROUP)
        .values_list("company_id", "upper_name")
    )
    wanted = list(same)
    if not wanted:
        return
    rows = (
        Contact.objects.filter(company_id__in={company for company, _name in wanted})
        .annotate(upper_name=Upper("name"))
        .filter(upper_name__in={name for _company, name in wanted})
        .values_list("pk", "company_id", "upper_name")
    )
    for pk, company_id, upper_name in rows:
        groups[(company_id, upper_name)].append(pk)
    for first, second in _group_pairs(groups.values()):
        yield first, second, 1.0


# --- companies --------------------------------------------------------------------------------------------


def company_pairs(progress: Progress | None = None) -> Pairs:
    pairs: Pairs = {}
    companies = Company.objects.all()
    for first, second in _group_pairs(shared_values(companies, F("domain"), "pk")):
        _note(pairs, first, second, REASON_DOMAIN)
    for first, second in _group_pairs(shared_values(companies, F("phone"), "pk")):
        _note(pairs, first, second, REASON_PHONE)
    _report(progress, 75, _("Companies: names…"))
    for first, second in _group_pairs(shared_values(companies, Upper("name"), "pk")):
        _note(pairs, first, second, REASON_NAME, 1.0)
    _report(progress, 85, _("Companies: saving the pairs…"))
    return pairs


# --- storing ----------------------------------------------------------------------------------------------


def store(entity: str, pairs: Pairs) -> dict[str, int]:
    """Insert new pairs, refresh the reasons and score of open ones, leave dismissed ones alone, and
    remove open pairs no longer found. Counts of what happened."""
    a_field, b_field = f"{entity}_a", f"{entity}_b"
    counts = {"found": len(pairs), "new": 0, "updated": 0, "removed": 0}
    keys = sorted(pairs)
    for start in range(0, len(keys), WRITE_BATCH):
        chunk = keys[start : start + WRITE_BATCH]
        existing = {
            (getattr(row, f"{a_field}_id"), getattr(row, f"{b_field}_id")): row
            for row in DuplicateCandidate.objects.filter(
                entity=entity,
                **{f"{a_field}_id__in": {a for a, _b in chunk}, f"{b_field}_id__in": {b for _a, b in chunk}},
            )
        }
        new, changed = [], []
        for key in chunk:
            found = pairs[key]
            reasons = sorted(found.reasons, key=lambda reason: REASON_ORDER.get(reason, 9))
            points = score(reasons, found.similarity)
            row = existing.get(key)
            if row is None:
                new.append(
                    DuplicateCandidate(
                        entity=entity,
                        reasons=reasons,
                        score=points,
                        **{f"{a_field}_id": key[0], f"{b_field}_id": key[1]},
                    )
                )
            elif row.status == DuplicateStatus.OPEN and (row.reasons != reasons or row.score != points):
                row.reasons, row.score = reasons, points
                changed.append(row)
        counts["new"] += _insert(entity, new)
        if changed:
            DuplicateCandidate.objects.bulk_update(changed, ["reasons", "score"])
            counts["updated"] += len(changed)
    last = 0
    while True:
        rows = list(
            DuplicateCandidate.objects.filter(entity=entity, status=DuplicateStatus.OPEN, pk__gt=last)
            .order_by("pk")
            .values_list("pk", f"{a_field}_id", f"{b_field}_id")[:5000]
        )
        if not rows:
            break
        last = rows[-1][0]
        stale = [pk for pk, first, second in rows if (first, second) not in pairs]
        if stale:
            counts["removed"] += DuplicateCandidate.objects.filter(pk__in=stale, status=DuplicateStatus.OPEN).delete()[
                0
            ]
    return counts


def _insert(entity: str, new: list[DuplicateCandidate]) -> int:
    if not new:
        return 0
    try:
        with transaction.atomic():
            DuplicateCandidate.objects.bulk_create(new, ignore_conflicts=True)
    except IntegrityError:
        # A record was deleted while the scan ran: keep the pairs whose records are all still there.
        model: Any = Contact if entity == "contact" else Company
        ids = {getattr(row, f"{entity}_{side}_id") for row in new for side in ("a", "b")}
        alive = set(model._base_manager.filter(pk__in=ids).values_list("pk", flat=True))
        kept = [
            row for row in new if getattr(row, f"{entity}_a_id") in alive and getattr(row, f"{entity}_b_id") in alive
        ]
        with transaction.atomic():
            DuplicateCandidate.objects.bulk_create(kept, ignore_conflicts=True)
        return len(kept)
    return len(new)


# --- the whole scan ---------------------------------------------------------------------------------------


def duplicates_scan(*, progress: Progress | None = None) -> dict[str, Any]:
    """Scan contacts and companies; one scan at a time (a second one started meanwhile does nothing)."""
    if not cache.add(LOCK_KEY, timezone.now().isoformat(), timeout=2 * 3600):
        return {"skipped": True}
    try:
        _report(progress, 2, _("Contacts: email addresses…"))
        contacts = store("contact", contact_pairs(progress))
        _report(progress, 65, _("Companies: domains and phone numbers…"))
        companies = store("company", company_pairs(progress))
        _report(progress, 95, _("Finishing…"))
        result = {"contacts": contacts, "companies": companies, "finished_at": timezone.now().isoformat()}
        cache.set(LAST_SCAN_KEY, result, timeout=None)
        return result
    finally:
        cache.delete(LOCK_KEY)


def last_scan() -> dict[str, Any] | None:
    value = cache.get(LAST_SCAN_KEY)
    return value if isinstance(value, dict) else None


def _report(progress: Progress | None, percent: int, message: Any = "") -> None:
    if progress is not None:
        progress(percent, str(message))
