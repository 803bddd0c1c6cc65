"""Query counts of list and detail pages are pinned: they must not grow with the number of rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import TeamFactory, UserFactory
from crm.core.testing import make_user
from crm.core.tests.sample.models import Gadget

pytestmark = pytest.mark.django_db

# Sign-in session, user and role, context processors, page queries: a fixed budget per page.
AUDIT_LOG_QUERIES = 9
USER_LIST_QUERIES = 6
DETAIL_QUERIES = 6


def _count(client, url, django_assert_max_num_queries, budget):
    client.get(url)  # warm caches (content types)
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("rows", [5, 60])
def test_audit_log_page(admin_client, admin_user, rows, django_assert_max_num_queries):
    team = TeamFactory()
    for index in range(rows):
        Gadget.objects.create(name=f"G{index}", owner=admin_user, team=team)
        team.members.add(UserFactory())
    _count(admin_client, reverse("core:audit_log"), django_assert_max_num_queries, AUDIT_LOG_QUERIES)


@pytest.mark.parametrize("rows", [3, 40])
def test_user_list_page(admin_client, roles, rows, django_assert_max_num_queries):
    team = TeamFactory()
    for _ in range(rows):
        team.members.add(UserFactory(role=roles["sales_rep"]))
    _count(admin_client, reverse("accounts:user_list"), django_assert_max_num_queries, USER_LIST_QUERIES)


@pytest.mark.parametrize("edits", [1, 30])
def test_detail_page_with_history(client, roles, edits, django_assert_max_num_queries):
    owner = make_user(module="sample")
    gadget = Gadget.objects.create(name="G", owner=owner)
    for index in range(edits):
        Gadget.objects.filter(pk=gadget.pk).update(name=f"G{index}")
    client.force_login(owner)
    _count(client, reverse("sample:gadget_detail", args=[gadget.pk]), django_assert_max_num_queries, DETAIL_QUERIES)
