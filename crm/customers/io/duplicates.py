"""The duplicate lookup used on import: which existing contact does an incoming row describe?

A row duplicates a contact the importing person can see when it shares an email address, a phone
number (both sides in E.164), or a similar name at the same company, in that order of strength.
"Similar" ignores case, extra spaces, the order of the words and, for Chinese names, the space
between family and given name ("王芳", "王 芳" and "芳 王" are one name).

Rows are looked up a batch at a time, in a few indexed queries whatever the batch size.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models.functions import Upper

from ..models import Company, Contact

CHUNK = 1000  # an import batch asks each lookup once
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Candidate:
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    name: str = ""
    company_id: int | None = None


@dataclass(frozen=True)
class Match:
    contact_id: int
    reason: str  # "email", "phone" or "name"


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


@lru_cache(maxsize=16_384)  # an import asks for each row's name several times
def name_keys(name: str) -> frozenset[str]:
    """The forms two names are compared in: case-folded, words sorted; a Chinese name without
    spaces, its parts in either order (family-given as written, or given-family as composed)."""
    tokens = unicodedata.normalize("NFKC", name).casefold().split()
    if not tokens:
        return frozenset()
    if all(_is_cjk(token) for token in tokens):
        return frozenset({"".join(tokens), "".join(reversed(tokens))})
    return frozenset({" ".join(sorted(tokens))})


def _name_variants(name: str) -> set[str]:
    """Spellings of a name as ``Contact.name`` may hold it, upper-cased for the indexed lookup."""
    tokens = unicodedata.normalize("NFKC", name).split()
    if not tokens:
        return set()
    forms = {" ".join(tokens), " ".join(reversed(tokens))}
    joined = "".join(tokens)
    if _is_cjk(joined):
        forms.update({joined, "".join(reversed(tokens))})
        for cut in (1, 2):
            if len(joined) > cut:
                forms.add(f"{joined[:cut]} {joined[cut:]}")
                forms.add(f"{joined[cut:]} {joined[:cut]}")
    variants = set()
    for form in forms:
        variants.add(form.upper())  # PostgreSQL's UPPER()
        variants.add(form.translate(_ASCII_UPPER))  # SQLite's UPPER() changes ASCII letters only
    return variants


def _lowest(found: dict[Any, int], key: Any, pk: int) -> None:
    if key not in found or pk < found[key]:
        found[key] = pk


def find_duplicates(*, user: Any, candidates: Sequence[Candidate]) -> list[Match | None]:
    """For each candidate, the existing contact it duplicates (lowest id when several), or ``None``."""
    contacts = Contact.objects.visible_to(user)
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    by_name: dict[tuple[int, str], int] = {}

    emails = {email for c in candidates for email in c.emails}
    for chunk in _chunks(emails):
        for email, pk in contacts.filter(emails__email__in=chunk).order_by().values_list("emails__email", "pk"):
            _lowest(by_email, email, pk)
        for email, pk in contacts.filter(email__in=chunk).order_by().values_list("email", "pk"):
            _lowest(by_email, email, pk)

    phones = {phone for c in candidates for phone in c.phones}
    for chunk in _chunks(phones):
        for number, pk in contacts.filter(phones__number__in=chunk).order_by().values_list("phones__number", "pk"):
            _lowest(by_phone, number, pk)
        for number, pk in contacts.filter(phone__in=chunk).order_by().values_list("phone", "pk"):
            _lowest(by_phone, number, pk)

    named = [c for c in candidates if c.company_id and c.name and not _matched(c, by_email, by_phone)]
    variants = {variant for c in named for variant in _name_variants(c.name)}
    company_ids = {c.company_id for c in named if c.company_id is not None}
    for chunk in _chunks(variants):
        rows = (
            contacts.filter(company_id__in=company_ids)
            .annotate(upper_name=Upper("name"))
            .filter(upper_name__in=chunk)
            .values_list("pk", "company_id", "name")
        )
        for pk, company_id, name in rows:
            for key in name_keys(name):
                _lowest(by_name, (company_id, key), pk)

    matches: list[Match | None] = []
    for candidate in candidates:
        match = None
        for email in candidate.emails:
            if email in by_email:
                match = Match(by_email[email], "email")
                break
        if match is None:
            for phone in candidate.phones:
                if phone in by_phone:
                    match = Match(by_phone[phone], "phone")
                    break
        if match is None and candidate.company_id and candidate.name:
            keys = [(candidate.company_id, key) for key in name_keys(candidate.name)]
            found = [by_name[key] for key in keys if key in by_name]
            if found:
                match = Match(min(found), "name")
        matches.append(match)
    return matches


def _matched(candidate: Candidate, by_email: dict[str, int], by_phone: dict[str, int]) -> bool:
    return any(e in by_email for e in candidate.emails) or any(p in by_phone for p in candidate.phones)


@lru_cache(maxsize=16_384)  # the same few company names on many rows
def company_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def find_companies(*, user: Any, names: Iterable[str]) -> dict[str, int]:
    """Company name key -> id of the visible company of that name (case and spacing ignored)."""
    wanted = {company_key(name): name for name in names if name.strip()}
    variants = set()
    for name in wanted.values():
        form = " ".join(unicodedata.normalize("NFKC", name).split())
        variants.update({form.upper(), form.translate(_ASCII_UPPER)})
    found: dict[str, int] = {}
    companies = Company.objects.visible_to(user)
    for chunk in _chunks(variants):
        rows = (
            companies.annotate(upper_name=Upper("name"))
            .filter(upper_name__in=chunk)
            .order_by()
            .values_list("pk", "name")
        )
        for pk, name in rows:
            key = company_key(name)
            if key in wanted:
                _lowest(found, key, pk)
    return found


# --- one record at a time, every match with its reasons (the warning on the create and edit forms) -------

REASON_EMAIL = "email"
REASON_PHONE = "phone"
REASON_NAME = "name"
REASON_DOMAIN = "domain"

# Names count as similar from these scores on: pg_trgm's similarity() of the upper-cased names on
# PostgreSQL (as the search ranks misspelled names), difflib's ratio elsewhere. "Jon Smith" and
# "John Smith" pass both; "Tom Baker" and "Tim Baker" pass neither.
TRIGRAM_THRESHOLD = 0.6
DIFFLIB_THRESHOLD = 0.9
# A company with more contacts than this is compared by exact name only (no pairwise similarity).
SIMILAR_NAMES_LIMIT = 500


@dataclass
class Hit:
    """An existing record that looks like the one being entered, and why."""

    pk: int
    reasons: list[str]
    similarity: float = 0.0  # of the names, when "name" is a reason (1.0: the same name)


def name_similarity(first: str, second: str) -> float:
    """How alike two names are, 0 to 1, without the database: 1.0 for the same name (case, spacing,
    word order and the space in Chinese names ignored), else difflib's ratio as written or with the
    words sorted, whichever is higher."""
    from difflib import SequenceMatcher

    keys_a, keys_b = name_keys(first), name_keys(second)
    if not keys_a or not keys_b:
        return 0.0
    if keys_a & keys_b:
        return 1.0
    forms_a = {*keys_a, " ".join(unicodedata.normalize("NFKC", first).casefold().split())}
    forms_b = {*keys_b, " ".join(unicodedata.normalize("NFKC", second).casefold().split())}
    return max(SequenceMatcher(None, a, b).ratio() for a in forms_a for b in forms_b)


def _add(hits: dict[int, Hit], pk: int, reason: str, similarity: float = 0.0) -> None:
    hit = hits.setdefault(pk, Hit(pk=pk, reasons=[]))
    if reason not in hit.reasons:
        hit.reasons.append(reason)
    hit.similarity = max(hit.similarity, similarity)


def similar_names(queryset: Any, name: str, *, limit: int = SIMILAR_NAMES_LIMIT) -> list[tuple[int, float]]:
    """Rows of ``queryset`` (already narrowed, e.g. to one company) whose name is like ``name``:
    (id, similarity), best first. pg_trgm on PostgreSQL, difflib on at most ``limit`` rows elsewhere;
    the same name written differently ("王 芳", "LOVELACE Ada") is found on both."""
    from django.db import connection, transaction

    from crm.core.postgres import similarity_supported

    text = " ".join(name.split())
    if not text:
        return []
    found: dict[int, float] = {}
    for pk in (
        queryset.annotate(upper_name=Upper("name"))
        .filter(upper_name__in=_name_variants(text))
        .values_list("pk", flat=True)[:limit]
    ):
        found[pk] = 1.0
    if similarity_supported(connection):
        from django.contrib.postgres.search import TrigramSimilarity

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [TRIGRAM_THRESHOLD])
            rows = (
                queryset.annotate(upper_name=Upper("name"))
                .filter(upper_name__trigram_similar=text.upper())
                .annotate(similarity=TrigramSimilarity(Upper("name"), text.upper()))
                .order_by("-similarity", "pk")
                .values_list("pk", "similarity")[:limit]
            )
            for pk, similarity in rows:
                found[pk] = max(found.get(pk, 0.0), min(1.0, float(similarity)))
    else:
        for pk, other in queryset.order_by("pk").values_list("pk", "name")[:limit]:
            similarity = name_similarity(text, other)
            if similarity >= DIFFLIB_THRESHOLD:
                found[pk] = max(found.get(pk, 0.0), similarity)
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))


def find_contact_matches(*, user: Any, candidate: Candidate, exclude: int | None = None, limit: int = 10) -> list[Hit]:
    """Every visible contact ``candidate`` may duplicate (not ``exclude``, the contact being edited),
    strongest first: the same email address, the same phone number, a similar name at the same company."""
    contacts = Contact.objects.visible_to(user)
    if exclude is not None:
        contacts = contacts.exclude(pk=exclude)
    hits: dict[int, Hit] = {}
    emails = sorted({email.strip().lower() for email in candidate.emails if email.strip()})[:20]
    if emails:
        for pk in (
            contacts.filter(emails__email__in=emails).order_by("pk").values_list("pk", flat=True).distinct()[:limit]
        ):
            _add(hits, pk, REASON_EMAIL)
    phones = sorted(set(candidate.phones))[:20]
    if phones:
        for pk in (
            contacts.filter(phones__number__in=phones).order_by("pk").values_list("pk", flat=True).distinct()[:limit]
        ):
            _add(hits, pk, REASON_PHONE)
    if candidate.name.strip() and candidate.company_id:
        for pk, similarity in similar_names(contacts.filter(company_id=candidate.company_id), candidate.name)[:limit]:
            _add(hits, pk, REASON_NAME, similarity)
    return _ranked(hits, limit)


def find_company_matches(
    *, user: Any, name: str = "", domain: str = "", phone: str = "", exclude: int | None = None, limit: int = 10
) -> list[Hit]:
    """Every visible company that may be the one being entered: the same domain, the same phone
    number (E.164), a similar name."""
    companies = Company.objects.visible_to(user)
    if exclude is not None:
        companies = companies.exclude(pk=exclude)
    hits: dict[int, Hit] = {}
    if domain:
        for pk in companies.filter(domain=domain.lower()).order_by("pk").values_list("pk", flat=True)[:limit]:
            _add(hits, pk, REASON_DOMAIN)
    if phone:
        for pk in companies.filter(phone=phone).order_by("pk").values_list("pk", flat=True)[:limit]:
            _add(hits, pk, REASON_PHONE)
    if name.strip():
        narrowed = companies
        from django.db import connection

        from crm.core.postgres import similarity_supported

        if not similarity_supported(connection):
            # difflib cannot ask an index: rank the companies sharing the name's first letters.
            first = company_key(name)[:3]
            narrowed = companies.filter(name__istartswith=first) if first else companies.none()
        for pk, similarity in similar_names(narrowed, name, limit=200)[:limit]:
            _add(hits, pk, REASON_NAME, similarity)
    return _ranked(hits, limit)


REASON_WEIGHTS = {REASON_EMAIL: 95, REASON_DOMAIN: 90, REASON_PHONE: 85, REASON_NAME: 70}


def score(reasons: Iterable[str], similarity: float = 1.0) -> int:
    """0-100: the strongest reason (a similar name by how similar), five more for each other reason."""
    weights = []
    for reason in set(reasons):
        weight = REASON_WEIGHTS.get(reason, 50)
        if reason == REASON_NAME:
            weight = round(40 + 30 * max(0.0, min(1.0, similarity)))
        weights.append(weight)
    if not weights:
        return 0
    return min(100, max(weights) + 5 * (len(weights) - 1))


def _ranked(hits: dict[int, Hit], limit: int) -> list[Hit]:
    order = {REASON_EMAIL: 0, REASON_DOMAIN: 1, REASON_PHONE: 2, REASON_NAME: 3}
    for hit in hits.values():
        hit.reasons.sort(key=lambda reason: order.get(reason, 9))
    return sorted(hits.values(), key=lambda hit: (-score(hit.reasons, hit.similarity), hit.pk))[:limit]
