"""Query counts of the lead pages are pinned: they must not grow with the number of rows (leads on a
page, activities of a lead, history entries)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import RoleFactory, TeamFactory, UserFactory
from crm.sales.leads import services
from crm.sales.tests.factories import make_lead

pytestmark = pytest.mark.django_db

# Sign-in session, user and role, the sidebar, the page's own queries: a fixed budget per page.
LIST_QUERIES = 8
DETAIL_QUERIES = 10  # with the lead's activities (and their attendees) and its history
CONVERT_QUERIES = 10  # with the contacts and companies it would reuse
FORM_QUERIES = 7
REP = {"sales": ["view", "create", "edit", "delete"], "customers": ["view", "create", "edit"]}


@pytest.fixture
def member(roles):
    """A team-scoped user: the scope filter itself costs queries (team ids, member ids)."""
    user = UserFactory(role=RoleFactory(permissions=REP, data_scope="team"))
    TeamFactory(members=[user])
    return user


def _count(client, url, django_assert_max_num_queries, budget):
    client.get(url)  # warm caches (content types)
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("rows", [3, 40])
def test_list_page(client, member, rows, django_assert_max_num_queries):
    for index in range(rows):
        make_lead(owner=member, team=member.teams.first(), name=f"Lead {index}", score=index)
    client.force_login(member)
    for url in (reverse("sales:lead_list"), f"{reverse('sales:lead_list')}?sort=-score&status=new"):
        _count(client, url, django_assert_max_num_queries, LIST_QUERIES)


@pytest.mark.parametrize("rows", [1, 30])
def test_detail_page(client, member, rows, django_assert_max_num_queries):
    lead = make_lead(owner=member, name="Ada", phone="+12125550100")
    for index in range(rows):
        services.lead_log_activity(
            actor=member, lead=lead, data={"kind": "meeting", "subject": f"Demo {index}", "starts_at": lead.created_at}
        )
        services.lead_update(actor=member, lead=lead, data={"interest": f"Interest {index}"}, version=lead.version)
    client.force_login(member)
    _count(client, lead.get_absolute_url(), django_assert_max_num_queries, DETAIL_QUERIES)


def test_converted_detail_page(client, member, django_assert_max_num_queries):
    lead = make_lead(owner=member, name="Ada", company_name="Acme", status="qualified")
    services.lead_convert(actor=member, lead=lead)
    client.force_login(member)
    _count(client, lead.get_absolute_url(), django_assert_max_num_queries, DETAIL_QUERIES + 3)


def test_convert_and_form_pages(client, member, django_assert_max_num_queries):
    lead = make_lead(owner=member, name="Ada", email="ada@acme.example", company_name="Acme", status="qualified")
    client.force_login(member)
    _count(client, reverse("sales:lead_convert", args=[lead.pk]), django_assert_max_num_queries, CONVERT_QUERIES)
    _count(client, reverse("sales:lead_edit", args=[lead.pk]), django_assert_max_num_queries, FORM_QUERIES)
