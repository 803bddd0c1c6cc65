"""Query counts of the company and contact pages are pinned: they must not grow with the number of rows
(contacts on a page, emails and phones of a contact, contacts and subsidiaries of a company, history).

The 360 pages are measured without the panels other modules register (each module pins its own)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import TeamFactory
from crm.core.registry import platform
from crm.core.testing import make_user
from crm.customers.models import Company, Contact, ContactEmail, ContactPhone, Tag

pytestmark = pytest.mark.django_db

# Sign-in session, user and role, the sidebar, the page's own queries: a fixed budget per page.
# Pages that show a person's sensitive fields add one INSERT: the audit entry of who saw them.
CONTACT_LIST_QUERIES = 11
COMPANY_LIST_QUERIES = 10
CONTACT_DETAIL_QUERIES = 14  # with the contact's past companies
COMPANY_DETAIL_QUERIES = 16  # with the company's former contacts
CONTACT_FORM_QUERIES = 12


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
