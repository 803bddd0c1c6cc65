"""How a converted lead becomes records: the new contact and company (through the customers
services) and the deal (through the deals services), with their refusals turned into messages on the
conversion. ``services.lead_convert`` decides what to reuse and runs these in its transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from crm.customers.choices import CompanySize

from ..choices import LeadSource
from ..models import Lead

# A lead's source, in the words of a contact's source.
CONTACT_SOURCES = {
    LeadSource.WEB_FORM: "website",
    LeadSource.WEBSITE: "website",
    LeadSource.REFERRAL: "referral",
    LeadSource.EVENT: "event",
    LeadSource.COLD_CALL: "cold_outreach",
    LeadSource.EMAIL: "advertising",
    LeadSource.SOCIAL: "advertising",
    LeadSource.PARTNER: "partner",
    LeadSource.IMPORT: "import",
    LeadSource.OTHER: "other",
}
DEAL_ERRORS = {"name": "deal_name"}  # a deal's field errors, as the conversion's fields are named


def default_deal_name(lead: Lead, company: Any = None) -> str:
    """``"<company> – <interest>"``, or whichever of them the lead has (its name as a last resort)."""
    company_name = getattr(company, "name", "") or lead.company_name or lead.name
    return " – ".join(part for part in (company_name.strip(), lead.interest.strip()) if part)[:200]


def pick(actor: Any, model_list: Any, chosen: Any, field: str) -> Any:
    if chosen is not None and not model_list(user=actor).filter(pk=chosen.pk).exists():
        raise ValidationError({field: _("Select a valid choice.")})
    return chosen


def _created(kind: str, make: Any) -> Any:
    """Run ``make()`` (a customers service); its refusal becomes one clear message on the conversion."""
    try:
        return make()
    except PermissionDenied:
        if kind == "contact":
            raise ValidationError(
                _("You may not create contacts: choose an existing one, or ask a colleague.")
            ) from None
        raise ValidationError(_("You may not create companies: choose an existing one, or ask a colleague.")) from None
    except ValidationError as exc:
        messages = "; ".join(exc.messages)
        if kind == "contact":
            raise ValidationError(
                _("The new contact could not be created: %(reason)s") % {"reason": messages}
            ) from None
        raise ValidationError(_("The new company could not be created: %(reason)s") % {"reason": messages}) from None


def new_company(actor: Any, lead: Lead, domain: str) -> Any:
    from crm.customers import services as customer_services

    data: dict[str, Any] = {
        "name": lead.company_name.strip(),
        "website": lead.website,
        "industry": lead.industry,
        "size": lead.company_size if lead.company_size in CompanySize.values else "",
        "country": lead.country,
        "region": lead.region,
        "owner": lead.owner or actor,
        "team": lead.team,
    }
    if domain and not lead.website:
        data["domain"] = domain
    return _created("company", lambda: customer_services.company_create(actor=actor, data=data))


def new_contact(actor: Any, lead: Lead, company: Any, *, with_deal: bool) -> Any:
    from crm.customers import services as customer_services

    data: dict[str, Any] = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "company": company,
        "country": lead.country,
        "region": lead.region,
        "source": CONTACT_SOURCES.get(LeadSource(lead.source), "other") if lead.source in LeadSource.values else "",
        "lifecycle_stage": "opportunity" if with_deal else "lead",
        "owner": lead.owner or actor,
        "team": lead.team,
        "emails": [{"email": lead.email}] if lead.email else [],
        "phones": [{"number": lead.phone}] if lead.phone else [],
    }
    if not lead.first_name and not lead.last_name:
        data["full_name"] = lead.name
    return _created("contact", lambda: customer_services.contact_create(actor=actor, data=data))


def new_deal(actor: Any, lead: Lead, deal: dict[str, Any], contact: Any, company: Any) -> Any:
    from crm.sales.deals.services import deal_create

    data = {
        key: value
        for key, value in deal.items()
        if key in {"pipeline", "amount", "currency", "expected_close_date"} and value not in (None, "")
    }
    data["name"] = str(deal.get("deal_name") or "").strip() or default_deal_name(lead, company)
    data.update(company=company, contacts=[contact], owner=lead.owner or actor, source=lead.source)
    try:
        return deal_create(actor=actor, data=data)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        errors: dict[str, list[str]] = {}
        for name, messages in exc.message_dict.items():
            key = DEAL_ERRORS.get(name, name)
            if key not in {"deal_name", "pipeline", "amount", "currency", "expected_close_date"}:
                key = "__all__"
            errors.setdefault(key, []).extend(messages)
        raise ValidationError(errors) from None
