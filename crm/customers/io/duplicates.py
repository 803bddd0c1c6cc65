"""The duplicate lookup used on import: which existing contact does an incoming row describe?

A row duplicates a contact the importing person can see when it shares an email address, a phone
number (both sides in E.164), or a similar name at the same company, in that order of strength.
"Similar" ignores case, extra spaces, the order of the words and, for Chinese names, the space
between family and given name ("王芳", "王 芳" and "芳 王" are one name).

Rows are looked up a batch at a time, in a few indexed queries whatever the batch size.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models.functions import Upper

from ..models import Company, Contact

CHUNK = 500
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


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
    return any("\u2e80" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af" for char in text)


def name_keys(name: str) -> set[str]:
    """The forms two names are compared in: case-folded, words sorted; a Chinese name without
    spaces, its parts in either order (family-given as written, or given-family as composed)."""
    tokens = unicodedata.normalize("NFKC", name).casefold().split()
    if not tokens:
        return set()
    if all(_is_cjk(token) for token in tokens):
        return {"".join(tokens), "".join(reversed(tokens))}
    return {" ".join(sorted(tokens))}


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
        for email, pk in contacts.filter(emails__email__in=chunk).values_list("emails__email", "pk"):
            _lowest(by_email, email, pk)
        for email, pk in contacts.filter(email__in=chunk).values_list("email", "pk"):
            _lowest(by_email, email, pk)

    phones = {phone for c in candidates for phone in c.phones}
    for chunk in _chunks(phones):
        for number, pk in contacts.filter(phones__number__in=chunk).values_list("phones__number", "pk"):
            _lowest(by_phone, number, pk)
        for number, pk in contacts.filter(phone__in=chunk).values_list("phone", "pk"):
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
        rows = companies.annotate(upper_name=Upper("name")).filter(upper_name__in=chunk).values_list("pk", "name")
        for pk, name in rows:
            key = company_key(name)
            if key in wanted:
                _lowest(found, key, pk)
    return found
