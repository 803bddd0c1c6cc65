"""Query counts of the company and contact pages are pinned: they must not grow with the number of rows
(contacts on a page, emails and phones of a contact, contacts and subsidiaries of a company, history).

The 360 pages are measured without the panels other modules register (each module pins its own)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import TeamFactory
from crm.core.registry import platform
from crm.core.testing import api_client, make_user
from crm.customers.models import Activity, Company, Contact, ContactEmail, ContactPhone, CustomField, Tag

pytestmark = pytest.mark.django_db

# Sign-in session, user and role, the sidebar, the page's own queries: a fixed budget per page.
# Pages that show a person's sensitive fields add one INSERT: the audit entry of who saw them.
CONTACT_LIST_QUERIES = 11
COMPANY_LIST_QUERIES = 10
CONTACT_DETAIL_QUERIES = 14  # with the contact's past companies
COMPANY_DETAIL_QUERIES = 16  # with the company's former contacts
CONTACT_FORM_QUERIES = 12
# The API (no session): the role, the scope, the rows and one query per prefetched relation (contacts:
# emails, phones, tags; companies: tags), and the audit entry of who saw a contact's sensitive fields.
CONTACT_API_LIST_QUERIES = 8
COMPANY_API_LIST_QUERIES = 6
CONTACT_API_DETAIL_QUERIES = 8
COMPANY_API_DETAIL_QUERIES = 6
ACTIVITY_LIST_QUERIES = 7
ACTIVITY_DETAIL_QUERIES = 10  # the history names the contact, company and user its changes point at


def _count(client, url, django_assert_max_num_queries, budget):
    client.get(url)  # warm caches (content types)
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def no_panels(monkeypatch):
    monkeypatch.setattr(platform, "panels", {})


@pytest.fixture
def member(roles):
    """A team-scoped user: the scope filter itself costs queries (team ids, member ids)."""
    user = make_user(module="customers", scope="team")
    TeamFactory(members=[user])
    return user


def _company_with_contacts(owner, rows):
    vip, partner = Tag.objects.create(name="VIP"), Tag.objects.create(name="Partner")
    holding = Company.objects.create(name="Holding", owner=owner)
    company = Company.objects.create(name="Acme", owner=owner, parent=holding, phone="+12125550100", country="DE")
    company.tags.add(vip, partner)
    for index in range(rows):
        contact = Contact.objects.create(
            first_name=f"P{index}", owner=owner, company=company, phone="+12125550100", country="US"
        )
        contact.tags.add(vip, partner)
        ContactEmail.objects.create(contact=contact, email=f"p{index}@example.com", is_primary=True)
        ContactPhone.objects.create(contact=contact, number="+12125550100", is_primary=True)
        Company.objects.create(name=f"Daughter {index}", owner=owner, parent=company)
    return company


@pytest.mark.parametrize("rows", [3, 40])
def test_contact_list_page(client, member, rows, django_assert_max_num_queries):
    _company_with_contacts(member, rows)
    client.force_login(member)
    client.post(reverse("customers:contact_columns"), {"columns": ["email", "phone", "company", "tags", "team"]})
    _count(client, reverse("customers:contact_list"), django_assert_max_num_queries, CONTACT_LIST_QUERIES)


@pytest.mark.parametrize("rows", [3, 40])
def test_company_list_page(client, member, rows, django_assert_max_num_queries):
    _company_with_contacts(member, rows)
    client.force_login(member)
    client.post(reverse("customers:company_columns"), {"columns": ["parent", "owner", "tags", "phone", "country"]})
    _count(client, reverse("customers:company_list"), django_assert_max_num_queries, COMPANY_LIST_QUERIES)


@pytest.mark.parametrize("rows", [1, 30])
def test_contact_detail_page(client, member, rows, no_panels, django_assert_max_num_queries):
    company = _company_with_contacts(member, 1)
    contact = Contact.objects.create(first_name="Ada", owner=member, company=company)
    for index in range(rows):
        ContactEmail.objects.create(contact=contact, email=f"ada{index}@example.com", is_primary=index == 0)
        ContactPhone.objects.create(contact=contact, number=f"+1212555{index:04d}", is_primary=index == 0)
        Contact.objects.filter(pk=contact.pk).update(title=f"Title {index}")
    client.force_login(member)
    _count(client, contact.get_absolute_url(), django_assert_max_num_queries, CONTACT_DETAIL_QUERIES)


@pytest.mark.parametrize("rows", [1, 30])
def test_company_detail_page(client, member, rows, no_panels, django_assert_max_num_queries):
    company = _company_with_contacts(member, rows)
    client.force_login(member)
    _count(client, company.get_absolute_url(), django_assert_max_num_queries, COMPANY_DETAIL_QUERIES)


@pytest.mark.parametrize("rows", [1, 20])
def test_contact_edit_form(client, member, rows, django_assert_max_num_queries):
    company = _company_with_contacts(member, 1)
    contact = Contact.objects.create(first_name="Ada", owner=member, company=company)
    for index in range(rows):
        ContactEmail.objects.create(contact=contact, email=f"ada{index}@example.com")
        ContactPhone.objects.create(contact=contact, number=f"+1212555{index:04d}")
    client.force_login(member)
    url = reverse("customers:contact_edit", args=[contact.pk])
    _count(client, url, django_assert_max_num_queries, CONTACT_FORM_QUERIES)


# --- the API -----------------------------------------------------------------------------------------------------


def _api_count(user, url, django_assert_max_num_queries, budget):
    api_client(user).get(url)  # warm caches (content types, custom field definitions)
    # A fresh copy of the user, as each request loads it: what the scope caches on it is not carried over.
    api = api_client(type(user).objects.get(pk=user.pk))
    with django_assert_max_num_queries(budget):
        response = api.get(url)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def custom_fields():
    for entity in ("contact", "company"):
        CustomField.objects.create(entity=entity, key="tier", label="Tier")
        CustomField.objects.create(entity=entity, key="secret", label="Secret", sensitive=True)


@pytest.mark.parametrize("rows", [3, 40])
def test_contact_api_list(member, rows, custom_fields, django_assert_max_num_queries):
    _company_with_contacts(member, rows)
    Contact.objects.update(custom={"tier": "gold", "secret": "x"})
    body = _api_count(member, "/api/v1/contacts/", django_assert_max_num_queries, CONTACT_API_LIST_QUERIES)
    assert len(body["results"]) == rows
    assert all(row["emails"] and row["phones"] and row["tags"] and row["custom"] for row in body["results"])


@pytest.mark.parametrize("rows", [3, 40])
def test_company_api_list(member, rows, custom_fields, django_assert_max_num_queries):
    _company_with_contacts(member, rows)
    Company.objects.update(custom={"tier": "gold", "secret": "x"})
    for company in Company.objects.all():
        company.tags.add(*Tag.objects.all())
    body = _api_count(member, "/api/v1/companies/", django_assert_max_num_queries, COMPANY_API_LIST_QUERIES)
    assert len(body["results"]) == rows + 2  # the holding, Acme and its daughters
    assert all(row["tags"] and row["custom"] for row in body["results"])


@pytest.mark.parametrize("rows", [1, 30])
def test_contact_api_detail(member, rows, custom_fields, django_assert_max_num_queries):
    company = _company_with_contacts(member, 1)
    contact = Contact.objects.create(
        first_name="Ada", owner=member, company=company, custom={"tier": "gold", "secret": "x"}
    )
    contact.tags.add(*Tag.objects.all())
    for index in range(rows):
        ContactEmail.objects.create(contact=contact, email=f"ada{index}@example.com", is_primary=index == 0)
        ContactPhone.objects.create(contact=contact, number=f"+1212555{index:04d}", is_primary=index == 0)
    url = f"/api/v1/contacts/{contact.pk}/"
    body = _api_count(member, url, django_assert_max_num_queries, CONTACT_API_DETAIL_QUERIES)
    assert len(body["emails"]) == len(body["phones"]) == rows


@pytest.mark.parametrize("rows", [1, 30])
def test_company_api_detail(member, rows, custom_fields, django_assert_max_num_queries):
    company = _company_with_contacts(member, rows)
    Company.objects.filter(pk=company.pk).update(custom={"tier": "gold", "secret": "x"})
    url = f"/api/v1/companies/{company.pk}/"
    body = _api_count(member, url, django_assert_max_num_queries, COMPANY_API_DETAIL_QUERIES)
    assert body["id"] == company.pk and len(body["tags"]) == 2


# --- activities --------------------------------------------------------------------------------------------------


def _activities(owner, rows):
    """``rows`` activities of every kind, about contacts and companies, some meetings with colleagues."""
    company = _company_with_contacts(owner, 2)
    contacts = list(Contact.objects.filter(company=company))
    colleagues = [make_user(module="customers") for _index in range(2)]
    activities = []
    for index in range(rows):
        kind = ("note", "call", "meeting", "email")[index % 4]
        activity = Activity.objects.create(
            kind=kind,
            subject=f"Subject {index}",
            body=f"**Body {index}**",
            contact=contacts[index % 2] if index % 3 else None,
            company=company if index % 3 != 1 else None,
            owner=owner if index % 2 else colleagues[0],
            duration=90 if kind == "call" else None,
        )
        if kind == "meeting":
            activity.attendees.add(*colleagues)
        activities.append(activity)
    return activities


@pytest.mark.parametrize("rows", [3, 40])
def test_activity_list_page(client, member, rows, django_assert_max_num_queries):
    activities = _activities(member, rows)
    client.force_login(member)
    _count(client, reverse("customers:activity_list"), django_assert_max_num_queries, ACTIVITY_LIST_QUERIES)
    content = client.get(reverse("customers:activity_list")).content.decode()
    assert all(f'href="{activity.get_absolute_url()}"' in content for activity in activities[-25:])


@pytest.mark.parametrize("rows", [1, 30])
def test_activity_detail_page(client, member, rows, django_assert_max_num_queries):
    """A meeting with many colleagues attending and a long history, whose changes name other records."""
    activity = _activities(member, 3)[2]
    assert activity.kind == "meeting"
    activity.attendees.add(*[make_user(module="customers") for _index in range(rows)])
    contacts = list(Contact.objects.order_by("pk"))
    companies = list(Company.objects.order_by("pk"))
    for index in range(rows):
        Activity.objects.filter(pk=activity.pk).update(
            subject=f"Subject {index}", contact=contacts[index % len(contacts)], company=companies[index % 3]
        )
    client.force_login(member)
    _count(client, activity.get_absolute_url(), django_assert_max_num_queries, ACTIVITY_DETAIL_QUERIES)
