"""Converting a lead: reuses the contact and company the person can see (by email or phone, by name or
domain), creates what is missing, optionally a deal, all in one transaction; journaled, never twice,
never a silent reuse of a record outside the person's scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.core.exceptions import ConflictError
from crm.core.testing import journal_entries, make_user
from crm.customers import services as customer_services
from crm.customers.models import Company, Contact
from crm.sales.leads import selectors, services
from crm.sales.models import Deal, Lead
from crm.sales.tests.factories import make_lead, make_pipeline

pytestmark = pytest.mark.django_db

REP = {
    "sales": ["view", "create", "edit"],
    "customers": ["view", "create", "edit"],
}


@pytest.fixture
def rep(roles):
    return UserFactory(username="rep", role=RoleFactory(permissions=REP, data_scope="own"))


@pytest.fixture
def other_rep(roles):
    return UserFactory(username="other", role=RoleFactory(permissions=REP, data_scope="own"))


@pytest.fixture
def pipeline(db):
    return make_pipeline()


def lead_for(owner, **fields):
    values = {
        "name": "Grace Hopper",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@acme.example",
        "phone": "+12125550100",
        "company_name": "Acme Robotics",
        "interest": "Platform licence",
        "status": "qualified",
    }
    values.update(fields)
    return make_lead(owner=owner, **values)


def test_reuses_the_contact_and_company_it_finds(rep):
    company = customer_services.company_create(actor=rep, data={"name": "ACME robotics"})
    contact = customer_services.contact_create(
        actor=rep, data={"first_name": "G.", "last_name": "Hopper", "emails": [{"email": "Grace@Acme.example"}]}
    )
    lead = lead_for(rep)
    plan = selectors.conversion_plan(user=rep, lead=lead)
    assert (plan.contact, plan.contact_reason) == (contact, "email")
    assert (plan.company, plan.company_reason) == (company, "name")
    converted = services.lead_convert(actor=rep, lead=lead)
    assert converted.contact == contact and converted.company == company and converted.deal is None
    assert converted.status == "converted" and converted.converted_by == rep and converted.converted_at
    assert Contact.objects.count() == 1 and Company.objects.count() == 1


def test_matches_by_phone_and_by_domain(rep):
    company = customer_services.company_create(
        actor=rep, data={"name": "Other name", "website": "https://www.acme.example"}
    )
    contact = customer_services.contact_create(
        actor=rep, data={"full_name": "Someone", "phones": [{"number": "(212) 555-0100"}]}
    )
    lead = lead_for(rep, email="", website="", company_name="")
    plan = selectors.conversion_plan(user=rep, lead=lead)
    assert (plan.contact, plan.contact_reason) == (contact, "phone")
    assert plan.company is None  # no name, no website and no business email: nothing to match
    lead = lead_for(rep, email="grace@acme.example")
    assert selectors.conversion_plan(user=rep, lead=lead).company == company
    lead = lead_for(rep, email="grace@gmail.com", website="acme.example")
    assert selectors.conversion_plan(user=rep, lead=lead).company == company
    assert selectors.lead_domain(lead_for(rep, email="someone@qq.com", website="")) == ""


def test_creates_what_is_missing_and_a_deal(rep, pipeline):
    lead = lead_for(rep, country="DE", company_size="51-200", website="https://acme.example")
    converted = services.lead_convert(
        actor=rep,
        lead=lead,
        deal={"pipeline": pipeline, "amount": "1200.50", "currency": "EUR", "expected_close_date": "2030-03-31"},
    )
    contact, company, deal = converted.contact, converted.company, converted.deal
    assert contact.name == "Grace Hopper" and contact.email == "grace@acme.example"
    assert contact.phone == "+12125550100"
    assert contact.company == company and contact.owner == rep and contact.lifecycle_stage == "opportunity"
    assert company.name == "Acme Robotics" and company.domain == "acme.example" and company.country == "DE"
    assert deal.name == "Acme Robotics – Platform licence"
    assert deal.amount == Decimal("1200.50") and deal.currency == "EUR"
    assert str(deal.expected_close_date) == "2030-03-31"
    assert deal.company == company and list(deal.contacts.all()) == [contact] and deal.pipeline == pipeline
    assert deal.owner == rep


def test_the_conversion_is_journaled(rep, pipeline):
    lead = lead_for(rep)
    converted = services.lead_convert(actor=rep, lead=lead, deal={"pipeline": pipeline, "deal_name": "Big one"})
    change = journal_entries(lead).last().changes
    assert change["status"] == ["qualified", "converted"]
    assert change["contact"] == [None, converted.contact_id]
    assert change["company"] == [None, converted.company_id]
    assert change["deal"] == [None, converted.deal_id]
    assert converted.deal.name == "Big one"
    assert journal_entries(converted.contact).get().action == "create"
    assert journal_entries(converted.deal).first().action == "create"


def test_never_duplicates_two_leads_of_the_same_person(rep):
    first = services.lead_convert(actor=rep, lead=lead_for(rep))
    second = services.lead_convert(actor=rep, lead=lead_for(rep, name="Grace H.", company_name="acme robotics"))
    assert second.contact == first.contact and second.company == first.company
    assert Contact.objects.count() == 1 and Company.objects.count() == 1


def test_not_twice_and_not_when_unqualified(rep):
    lead = lead_for(rep)
    services.lead_convert(actor=rep, lead=lead)
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(actor=rep, lead=lead)
    assert exc.value.code == "converted"
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(actor=rep, lead=lead_for(rep, status="unqualified"))
    assert exc.value.code == "unqualified"
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("status", ["new", "contacted", "qualified"])
def test_open_statuses_convert(rep, status):
    assert services.lead_convert(actor=rep, lead=lead_for(rep, status=status)).status == "converted"


def test_a_contact_outside_the_scope_is_not_reused_a_new_one_is_created(rep, other_rep):
    hidden = customer_services.contact_create(
        actor=other_rep, data={"full_name": "Grace (theirs)", "emails": [{"email": "grace@acme.example"}]}
    )
    hidden_company = customer_services.company_create(actor=other_rep, data={"name": "Acme Robotics"})
    lead = lead_for(rep)
    plan = selectors.conversion_plan(user=rep, lead=lead)
    assert plan.contact is None and plan.company is None and plan.contact_candidates == []
    converted = services.lead_convert(actor=rep, lead=lead)
    assert converted.contact != hidden and converted.contact.owner == rep
    assert converted.company != hidden_company
    # naming it on purpose is refused like an unknown record
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(actor=rep, lead=lead_for(rep), contact=hidden)
    assert "contact" in exc.value.message_dict


def test_choosing_new_records_on_purpose(rep):
    existing = customer_services.contact_create(
        actor=rep, data={"full_name": "G", "emails": [{"email": "grace@acme.example"}]}
    )
    converted = services.lead_convert(actor=rep, lead=lead_for(rep), new_contact=True)
    assert converted.contact != existing and Contact.objects.count() == 2


@pytest.mark.parametrize(
    ("deal", "field"),
    [
        ({"amount": "abc"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"expected_close_date": "31/12/2030"}, "expected_close_date"),
        ({"deal_name": "x" * 300}, "deal_name"),
    ],
)
def test_bad_deal_input_changes_nothing(rep, pipeline, deal, field):
    lead = lead_for(rep)
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(actor=rep, lead=lead, deal={"pipeline": pipeline, **deal})
    assert field in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.status == "qualified" and lead.contact is None
    assert not Contact.objects.exists() and not Company.objects.exists() and not Deal.objects.exists()


def test_a_stale_conversion_is_a_conflict(rep):
    lead = lead_for(rep)
    version = lead.version
    services.lead_update(actor=rep, lead=lead, data={"interest": "Changed"}, version=version)
    with pytest.raises(ConflictError):
        services.lead_convert(actor=rep, lead=Lead.objects.get(pk=lead.pk), version=version)
    assert not Contact.objects.exists()


def test_conversion_needs_permission_and_scope(rep, other_rep, roles):
    reader = make_user(module="sales", actions=("view",))
    lead = lead_for(rep)
    with pytest.raises(PermissionDenied):
        services.lead_convert(actor=reader, lead=lead)
    with pytest.raises(PermissionDenied):
        services.lead_convert(actor=other_rep, lead=lead)
    sales_only = UserFactory(
        role=RoleFactory(permissions={"sales": ["view", "edit"], "customers": ["view"]}, data_scope="all")
    )
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(actor=sales_only, lead=lead)
    assert "may not create companies" in exc.value.messages[0]
    lead.refresh_from_db()
    assert lead.status == "qualified"


def test_a_lead_without_a_company_name_makes_no_company(rep):
    converted = services.lead_convert(actor=rep, lead=lead_for(rep, company_name="", email="grace@gmail.com"))
    assert converted.company is None and converted.contact.company is None
