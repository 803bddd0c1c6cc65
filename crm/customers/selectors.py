"""Every read of customer data, scoped through core.access."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse

from crm.core.crypto import masking
from crm.core.registry import SearchResult

from .models import Company, Contact, ContactEmail, ContactPhone, PastCompany, Tag
from .phones import try_normalize_phone


def company_list(*, user: Any, action: str = "view") -> QuerySet[Company]:
    return Company.objects.visible_to(user, action=action).select_related("owner", "team", "parent")


def company_get(*, user: Any, pk: Any, action: str = "view") -> Company | None:
    return company_list(user=user, action=action).filter(pk=pk).first()


def contact_list(*, user: Any, action: str = "view") -> QuerySet[Contact]:
    return Contact.objects.visible_to(user, action=action).select_related("owner", "team", "company")


def contact_detail_queryset(*, user: Any, action: str = "view") -> QuerySet[Contact]:
    return contact_list(user=user, action=action).prefetch_related(
        Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=ContactPhone.objects.order_by("-is_primary", "id")),
        "tags",
    )


def company_contacts(*, user: Any, company: Company) -> QuerySet[Contact]:
    return contact_list(user=user).filter(company=company).order_by("name", "id")


def company_subsidiaries(*, user: Any, company: Company) -> QuerySet[Company]:
    return company_list(user=user).filter(parent=company).order_by("name", "id")


def past_companies(*, user: Any, contact: Contact, limit: int = 10) -> list[PastCompany]:
    """The companies the contact used to work for, among those the user may see, newest first."""
    visible = Company.objects.visible_to(user).values("pk")
    return list(PastCompany.objects.filter(contact=contact, company__in=visible).select_related("company")[:limit])


def former_contacts(*, user: Any, company: Company, limit: int = 10) -> list[PastCompany]:
    """The people who used to work for the company, among the contacts the user may see, newest first."""
    visible = Contact.objects.visible_to(user).values("pk")
    return list(PastCompany.objects.filter(company=company, contact__in=visible).select_related("contact")[:limit])


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


# --- global search --------------------------------------------------------------------------------


def contact_autocomplete(*, user: Any, query: str, limit: int = 10) -> list[Contact]:
    """A few contacts for a picker: every word in the name, or the exact email address."""
    contacts = (
        contact_list(user=user)
        .select_related(None)
        .select_related("company")
        .only("id", "name", "email", "company__name")
    )
    if "@" in query:
        return list(contacts.filter(emails__email__iexact=query).order_by("name", "id")[:limit])
    return list(contacts.filter(_name_query(query)).order_by("name", "id")[:limit])


def _name_query(query: str) -> Q:
    """Every word of the query in the name (partial, any order)."""
    condition = Q()
    for word in query.split()[:5]:
        condition &= Q(name__icontains=word)
    return condition


def _misspelled(queryset: QuerySet[Any], query: str, limit: int, exclude: set[int]) -> list[tuple[Any, float]]:
    """Names close to the query though not containing it ("Jonhson" finds "Johnson"), scored from 0.5 to
    under 1: always below a name that holds the query (1, or 2 when it starts with it).

    PostgreSQL ranks by trigram similarity (served by the trigram index on UPPER(name)); elsewhere a
    bounded set of candidates holding the query's first letters is ranked with difflib, word by word.
    """
    from difflib import SequenceMatcher

    from django.db import connection
    from django.db.models.functions import Upper

    from crm.core.postgres import similarity_supported

    text = query.strip()
    if len(text) < 3 or "@" in text or not any(ch.isalpha() for ch in text):
        return []  # an email address, a phone number or a code: no point in near-miss names
    if similarity_supported(connection):
        from django.contrib.postgres.search import TrigramWordSimilarity
        from django.db import transaction

        # ``%>`` (trigram_word_similar: the query against each word of the name) is what the trigram
        # index on UPPER(name) serves; a typo in one word of a full name scores about 0.3.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = 0.3")
            ranked = list(
                queryset.exclude(pk__in=exclude)
                .annotate(upper_name=Upper("name"))
                .filter(upper_name__trigram_word_similar=text.upper())
                .annotate(similarity=TrigramWordSimilarity(text.upper(), Upper("name")))
                .order_by("-similarity", "id")[:limit]
            )
        return [(row, _near_miss_score(float(row.similarity))) for row in ranked]
    candidates = queryset.exclude(pk__in=exclude).filter(name__icontains=text[:2]).order_by("name", "id")[:200]

    def closeness(name: str) -> float:
        words = [name, *name.split()]
        return max(SequenceMatcher(None, text.lower(), word.lower()).ratio() for word in words)

    scored = [(row, closeness(row.name)) for row in candidates]
    near = [(row, _near_miss_score(ratio)) for row, ratio in scored if ratio >= 0.6]
    return sorted(near, key=lambda pair: -pair[1])[:limit]


def _near_miss_score(similarity: float) -> float:
    return 0.5 + 0.49 * max(0.0, min(1.0, similarity))


def contact_search(*, user: Any, query: str, limit: int) -> list[SearchResult]:
    """Contacts by name fragment, any email address, or phone number in any format."""
    contacts = contact_list(user=user)
    # Finding people by phone number is for roles that may see phone numbers (no guessing game).
    phone = try_normalize_phone(query) if masking.may_view(user) else None
    hits: dict[int, tuple[Contact, float]] = {}
    if "@" in query:
        for contact in contacts.filter(emails__email__iexact=query.strip())[:limit]:
            hits[contact.pk] = (contact, 3.0)
    if phone:
        for contact in contacts.filter(phones__number=phone)[:limit]:
            hits[contact.pk] = (contact, 3.0)
    if len(hits) < limit:
        for contact in contacts.filter(_name_query(query)).order_by("name", "id")[:limit]:
            score = 2.0 if contact.name.lower().startswith(query.lower()) else 1.0
            hits.setdefault(contact.pk, (contact, score))
    if len(hits) < limit:
        for contact, score in _misspelled(contacts, query, limit - len(hits), set(hits)):
            hits.setdefault(contact.pk, (contact, score))
    return [
        SearchResult(
            type_label="contact",
            title=contact.name,
            subtitle=" · ".join(
                part for part in (contact.title, contact.company.name if contact.company else "", contact.email) if part
            ),
            url=reverse("customers:contact_detail", args=[contact.pk]),
            score=score,
        )
        for contact, score in hits.values()
    ]


def company_search(*, user: Any, query: str, limit: int) -> list[SearchResult]:
    """Companies by name fragment or by domain (``acme.com``, or an email address at it)."""
    companies = company_list(user=user)
    domain = query.strip().lower().rsplit("@", 1)[-1].removeprefix("www.")
    hits: dict[int, tuple[Company, float]] = {}
    if "." in domain and " " not in domain:
        for company in companies.filter(domain=domain)[:limit]:
            hits[company.pk] = (company, 3.0)
    if len(hits) < limit:
        for company in companies.filter(_name_query(query)).order_by("name", "id")[:limit]:
            score = 2.0 if company.name.lower().startswith(query.lower()) else 1.0
            hits.setdefault(company.pk, (company, score))
    if len(hits) < limit:
        for company, score in _misspelled(companies, query, limit - len(hits), set(hits)):
            hits.setdefault(company.pk, (company, score))
    return [
        SearchResult(
            type_label="company",
            title=company.name,
            subtitle=" · ".join(part for part in (company.industry, company.domain, company.city) if part),
            url=reverse("customers:company_detail", args=[company.pk]),
            score=score,
        )
        for company, score in hits.values()
    ]
