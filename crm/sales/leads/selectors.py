"""Every read of leads, their conversion, the assignment rules and the sales settings.

Leads are scoped through core.access (``Lead.objects.visible_to``); assignment rules and the sales
settings are company-wide and read by whoever may manage them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from crm.core.crypto import masking
from crm.core.registry import SearchResult
from crm.customers import selectors as customer_selectors
from crm.customers.models import Company, Contact
from crm.customers.phones import try_normalize_phone
from crm.customers.services import domain_from_website

from ..models import AssignmentRule, Lead, SalesSettings

# Addresses at these domains belong to a person, not to their employer: never a company's domain.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "sohu.com",
        "foxmail.com",
        "aliyun.com",
        "139.com",
    }
)


# --- leads -----------------------------------------------------------------------------------------


def lead_list(*, user: Any, action: str = "view") -> QuerySet[Lead]:
    return Lead.objects.visible_to(user, action=action).select_related("owner", "team")


def lead_get(*, user: Any, pk: Any, action: str = "view") -> Lead | None:
    return lead_list(user=user, action=action).filter(pk=pk).first()


def lead_detail_queryset(*, user: Any, action: str = "view") -> QuerySet[Lead]:
    return lead_list(user=user, action=action).select_related(
        "converted_by", "contact", "company", "deal", "web_form", "deal__stage"
    )


def lead_activities(*, lead: Lead, limit: int = 50) -> list[Any]:
    """What was logged about the lead (notes, calls, meetings, emails), newest first."""
    from crm.customers.activities.selectors import related_activities

    return list(related_activities(obj=lead).prefetch_related("attendees")[:limit])


def lead_links(*, user: Any, lead: Lead) -> dict[str, Any]:
    """What a converted lead became, each shown as a link only when the user may open it."""
    from crm.sales.deals.selectors import deal_list

    return {
        "contact_visible": lead.contact_id is not None
        and customer_selectors.contact_list(user=user).filter(pk=lead.contact_id).exists(),
        "company_visible": lead.company_id is not None
        and customer_selectors.company_list(user=user).filter(pk=lead.company_id).exists(),
        "deal_visible": lead.deal_id is not None and deal_list(user=user).filter(pk=lead.deal_id).exists(),
    }


def lead_search(*, user: Any, query: str, limit: int) -> list[SearchResult]:
    """Leads by name or company fragment, email or phone number in any format; scoped."""
    leads = lead_list(user=user).select_related(None)
    text = query.strip()
    hits: dict[int, tuple[Lead, float]] = {}
    if "@" in text and " " not in text:
        for lead in leads.filter(email=text.lower())[:limit]:
            hits[lead.pk] = (lead, 3.0)
    phone = try_normalize_phone(text) if masking.may_view(user) else None
    if phone:
        for lead in leads.filter(phone=phone)[:limit]:
            hits[lead.pk] = (lead, 3.0)
    if len(hits) < limit:
        condition = Q()
        for word in text.split()[:5]:
            condition &= Q(name__icontains=word)
        for lead in leads.filter(condition).order_by("name", "id")[:limit]:
            hits.setdefault(lead.pk, (lead, 2.0 if lead.name.lower().startswith(text.lower()) else 1.0))
    if len(hits) < limit:
        condition = Q()
        for word in text.split()[:5]:
            condition &= Q(company_name__icontains=word)
        for lead in leads.filter(condition).order_by("name", "id")[: limit - len(hits)]:
            hits.setdefault(lead.pk, (lead, 0.9))
    return [
        SearchResult(
            type_label="lead",
            title=lead.name,
            subtitle=" · ".join(part for part in (lead.company_name, lead.email, lead.get_status_display()) if part),
            url=reverse("sales:lead_detail", args=[lead.pk]),
            score=score,
        )
        for lead, score in list(hits.values())[:limit]
    ]


# --- conversion ------------------------------------------------------------------------------------


def lead_domain(lead: Lead) -> str:
    """The company's internet domain as the lead tells it: the website's, else the business email's."""
    if lead.website:
        domain = domain_from_website(lead.website)
        if domain:
            return domain
    if "@" in lead.email:
        domain = lead.email.rsplit("@", 1)[1].lower().strip()
        if domain and domain not in FREE_MAIL_DOMAINS:
            return domain
    return ""


@dataclass
class ConversionPlan:
    """What converting a lead will do: the contact and company it reuses (found among those the user
    may see) or creates. ``*_candidates`` are every match, best first, for the person to choose."""

    contact: Contact | None = None
    contact_reason: str = ""  # "email" / "phone"
    contact_candidates: list[Contact] = field(default_factory=list)
    company: Company | None = None
    company_reason: str = ""  # "name" / "domain" / "contact"
    company_candidates: list[Company] = field(default_factory=list)
    domain: str = ""

    @property
    def creates_contact(self) -> bool:
        return self.contact is None

    def creates_company(self, lead: Lead) -> bool:
        return self.company is None and bool(lead.company_name.strip())


MAX_CANDIDATES = 5


def contact_matches(*, user: Any, lead: Lead) -> list[tuple[Contact, str]]:
    """Contacts the user may see with the lead's email address or phone number (email first)."""
    contacts = customer_selectors.contact_list(user=user)
    found: dict[int, tuple[Contact, str]] = {}
    email = lead.email.strip().lower()
    if email:
        for contact in contacts.filter(emails__email__iexact=email).distinct().order_by("id")[:MAX_CANDIDATES]:
            found.setdefault(contact.pk, (contact, "email"))
    phone = lead.phone.strip()
    if phone and len(found) < MAX_CANDIDATES:
        for contact in contacts.filter(phones__number=phone).distinct().order_by("id")[:MAX_CANDIDATES]:
            found.setdefault(contact.pk, (contact, "phone"))
    return list(found.values())[:MAX_CANDIDATES]


def company_matches(*, user: Any, lead: Lead, domain: str = "") -> list[tuple[Company, str]]:
    """Companies the user may see with the lead's company name (any case) or internet domain."""
    companies = customer_selectors.company_list(user=user)
    found: dict[int, tuple[Company, str]] = {}
    name = lead.company_name.strip()
    if name:
        for company in companies.filter(name__iexact=name).order_by("id")[:MAX_CANDIDATES]:
            found.setdefault(company.pk, (company, "name"))
    if domain and len(found) < MAX_CANDIDATES:
        for company in companies.filter(domain=domain).order_by("id")[:MAX_CANDIDATES]:
            found.setdefault(company.pk, (company, "domain"))
    return list(found.values())[:MAX_CANDIDATES]


def conversion_plan(*, user: Any, lead: Lead) -> ConversionPlan:
    """Find what a conversion of ``lead`` by ``user`` would reuse. Records the user cannot see are
    never offered: for them a new contact or company is created."""
    plan = ConversionPlan(domain=lead_domain(lead))
    contacts = contact_matches(user=user, lead=lead)
    plan.contact_candidates = [contact for contact, _reason in contacts]
    if contacts:
        plan.contact, plan.contact_reason = contacts[0]
    companies = company_matches(user=user, lead=lead, domain=plan.domain)
    plan.company_candidates = [company for company, _reason in companies]
    if companies:
        plan.company, plan.company_reason = companies[0]
    elif plan.contact is not None and plan.contact.company_id is not None:
        company = customer_selectors.company_get(user=user, pk=plan.contact.company_id)
        if company is not None:
            plan.company, plan.company_reason = company, "contact"
            plan.company_candidates = [company]
    return plan


# --- assignment rules and settings -----------------------------------------------------------------


def assignment_rule_list() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("team", "user", "last_assigned").order_by("order", "id")


def assignment_rule_get(*, pk: Any) -> AssignmentRule | None:
    return assignment_rule_list().filter(pk=pk).first()


def sales_settings() -> SalesSettings:
    return SalesSettings.load()
