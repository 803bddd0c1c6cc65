"""Global search over contacts and companies: partial and misspelled names, any email, a phone
number in any format, a company's domain; ranked, and scoped to what the user may see."""

import pytest
from django.test import override_settings

from crm.core.testing import api_client, make_user
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


# --- the search page, its fragment and the API: scoped like the selectors -----------------------------------


@pytest.fixture
def scoped(rep, roles):
    """Records of ``rep`` that a stranger may not see, and the stranger's own records with similar names."""
    stranger = make_user(module="customers", scope="own")
    hidden_company = services.company_create(
        actor=rep, data={"name": "Northwind Traders", "website": "https://www.nwt-hq.example"}
    )
    hidden_contact = services.contact_create(
        actor=rep,
        data={
            "first_name": "Margaret",
            "last_name": "Johnson",
            "company": hidden_company,
            "emails": [{"email": "m.johnson@nwt-hq.example"}, {"email": "maggie@example.org"}],
            "phones": [{"number": "+86 138 1234 5678"}],
        },
    )
    visible_company = services.company_create(
        actor=stranger, data={"name": "Northwind Trading", "website": "https://northwind-trading.example"}
    )
    visible_contact = services.contact_create(
        actor=stranger,
        data={
            "first_name": "Margaret",
            "last_name": "Johnston",
            "company": visible_company,
            "emails": [{"email": "margaret@northwind-trading.example"}],
            "phones": [{"number": "+1 212 555 0177"}],
        },
    )
    return {
        "owner": rep,
        "stranger": stranger,
        "hidden": {hidden_contact.get_absolute_url(), hidden_company.get_absolute_url()},
        "contact": visible_contact.get_absolute_url(),
        "company": visible_company.get_absolute_url(),
    }


def search_everywhere(client, user, query):
    """What ``user`` finds for ``query``: the API's answer, the full search page and the htmx fragment."""
    response = api_client(user).get("/api/v1/search/", {"q": query})
    assert response.status_code == 200
    client.force_login(user)
    page = client.get("/search/", {"q": query})
    fragment = client.get("/search/", {"q": query}, HTTP_HX_REQUEST="true")
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.content.decode() and "<html" not in fragment.content.decode()
    return response.json(), page.content.decode(), fragment.content.decode()


def linked(html, urls):
    """Which of ``urls`` the HTML links to."""
    return {url for url in urls if f'href="{url}"' in html}


HIDDEN_ONLY = [
    "m.johnson@nwt-hq.example",  # the hidden contact's addresses
    "MAGGIE@example.org",
    "+8613812345678",  # its phone number, in two formats
    "+86 138-1234-5678",
    "nwt-hq.example",  # the hidden company's domain, alone and in an address
    "someone@nwt-hq.example",
]


@pytest.mark.parametrize("query", HIDDEN_ONLY)
def test_the_search_page_fragment_and_api_hide_records_outside_the_scope(client, scoped, query):
    api, page, fragment = search_everywhere(client, scoped["stranger"], query)
    assert api == {"results": []}
    for html in (page, fragment):
        assert linked(html, scoped["hidden"]) == set()
        assert "Nothing found" in html
        assert "Northwind Traders" not in html and "<strong>Margaret Johnson</strong>" not in html
    # The very same search finds them for their owner: the query does reach the hidden records.
    api, page, fragment = search_everywhere(client, scoped["owner"], query)
    assert {row["url"] for row in api["results"]} & scoped["hidden"]
    assert linked(page, scoped["hidden"]) and linked(fragment, scoped["hidden"])


@pytest.mark.parametrize(
    ("query", "visible"),
    [
        ("Margaret", "contact"),
        ("Johnson", "contact"),  # "Johnston" is close enough
        ("Margaret Johnson", "contact"),
        ("margaret@northwind-trading.example", "contact"),
        ("+1 212-555-0177", "contact"),
        ("Northwind", "company"),
        ("Northwind Traders", "company"),
        ("northwind-trading.example", "company"),
    ],
)
def test_a_visible_record_with_a_similar_name_is_found_and_the_hidden_one_is_not(client, scoped, query, visible):
    api, page, fragment = search_everywhere(client, scoped["stranger"], query)
    urls = [row["url"] for row in api["results"]]
    assert scoped[visible] in urls and not set(urls) & scoped["hidden"], urls
    for html in (page, fragment):
        assert scoped[visible] in linked(html, [scoped[visible]])
        assert linked(html, scoped["hidden"]) == set()
        assert "Northwind Traders</strong>" not in html and "<strong>Margaret Johnson</strong>" not in html


def test_a_name_holding_the_query_ranks_above_near_misses(rep):
    from crm.core import selectors as core_selectors

    for name in ("Acme Trading 179", "Acme Trading 25", "Blue River Trading 1", "东方Trading55", "星辰Trading5"):
        services.company_create(actor=rep, data={"name": name})
    groups = dict(core_selectors.search(user=rep, query="Trading5", limit=8))
    ranked = titles(next(iter(groups.values())))
    holding = [title for title in ranked if "trading5" in title.lower()]
    assert ranked[: len(holding)] == holding and set(holding) == {"东方Trading55", "星辰Trading5"}
