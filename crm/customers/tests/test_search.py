"""Global search over contacts and companies: partial and misspelled names, any email, a phone
number in any format, a company's domain; ranked, and scoped to what the user may see."""

import pytest
from django.test import override_settings

from crm.core.testing import make_user
from crm.customers import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def data(rep):
    acme = services.company_create(
        actor=rep, data={"name": "Acme Robotics", "website": "https://www.acme-robotics.com"}
    )
    services.contact_create(
        actor=rep,
        data={
            "first_name": "Margaret",
            "last_name": "Johnson",
            "company": acme,
            "emails": [{"email": "m.johnson@acme-robotics.com"}, {"email": "maggie@example.org"}],
            "phones": [{"number": "+86 138 1234 5678"}],
        },
    )
    services.contact_create(actor=rep, data={"full_name": "王芳", "phones": [{"number": "+1 (617) 555-0100"}]})
    return acme


def titles(results):
    return [r.title for r in results]


def test_partial_and_misspelled_names(rep, data):
    assert titles(selectors.contact_search(user=rep, query="john", limit=8)) == ["Margaret Johnson"]
    assert titles(selectors.contact_search(user=rep, query="Jonhson", limit=8)) == ["Margaret Johnson"]
    assert titles(selectors.contact_search(user=rep, query="王", limit=8)) == ["王芳"]
    assert titles(selectors.company_search(user=rep, query="robot", limit=8)) == ["Acme Robotics"]


def test_any_email_and_phone_in_any_format(rep, data):
    assert titles(selectors.contact_search(user=rep, query="maggie@example.org", limit=8)) == ["Margaret Johnson"]
    for typed in ("+8613812345678", "+86 138-1234-5678", "(+86) 138 1234 5678"):
        assert titles(selectors.contact_search(user=rep, query=typed, limit=8)) == ["Margaret Johnson"]
    with override_settings(CRM_PHONE_REGION="US"):
        assert titles(selectors.contact_search(user=rep, query="617-555-0100", limit=8)) == ["王芳"]


def test_company_by_domain_or_an_address_at_it(rep, data):
    assert titles(selectors.company_search(user=rep, query="acme-robotics.com", limit=8)) == ["Acme Robotics"]
    assert titles(selectors.company_search(user=rep, query="someone@acme-robotics.com", limit=8)) == ["Acme Robotics"]


def test_nothing_outside_the_scope(rep, data, roles):
    stranger = make_user(module="customers", scope="own")
    assert selectors.contact_search(user=stranger, query="Johnson", limit=8) == []
    assert selectors.contact_search(user=stranger, query="+8613812345678", limit=8) == []
    assert selectors.company_search(user=stranger, query="acme-robotics.com", limit=8) == []


def test_the_header_search_groups_by_type(client, rep, data):
    client.force_login(rep)
    body = client.get("/search/", {"q": "acme"}).content.decode()
    assert "Companies" in body and "Acme Robotics" in body
