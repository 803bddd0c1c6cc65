"""The API of leads (filters, ordering, validation, conversion) and of the assignment rules."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import RoleFactory, TeamFactory, UserFactory
from crm.core.testing import api_client, make_user
from crm.customers import services as customer_services
from crm.sales.models import AssignmentRule, Lead
from crm.sales.tests.factories import make_lead, make_pipeline

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
RULES = "/api/v1/assignment-rules/"
REP = {"sales": ["view", "create", "edit", "delete"], "customers": ["view", "create", "edit"]}


@pytest.fixture
def rep(roles):
    return UserFactory(username="rep", role=RoleFactory(permissions=REP, data_scope="own"))


@pytest.fixture
def api(rep):
    return api_client(rep)


def test_routes_are_named():
    assert reverse("sales-api:lead-list") == LEADS
    assert reverse("sales-api:lead-convert", args=[7]) == f"{LEADS}7/convert/"
    assert reverse("sales-api:assignment-rule-list") == RULES


def test_list_filters_and_sorts(api, rep):
    make_lead(owner=rep, name="Low", score=10, status="new", source="event")
    make_lead(owner=rep, name="High", score=90, status="qualified", source="referral", company_name="Acme")
    make_lead(owner=rep, name="Middle", score=50, status="new", source="event")
    make_lead(owner=make_user(module="sales"), name="Not mine", score=99)

    def names(query: str) -> list[str]:
        response = api.get(f"{LEADS}?{query}")
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names("ordering=-score") == ["High", "Middle", "Low"]
    assert names("ordering=name") == ["High", "Low", "Middle"]
    assert names("status=new&ordering=score") == ["Low", "Middle"]
    assert names("score_min=40&score_max=60") == ["Middle"]
    assert names("source=referral") == ["High"]
    assert names("q=acme") == ["High"]
    assert api.get(f"{LEADS}?status=nonsense").status_code == 400


def test_create_assigns_by_the_rules_without_an_owner(api, rep, roles):
    other = UserFactory(username="rr", role=RoleFactory(permissions=REP))
    AssignmentRule.objects.create(name="All", method="round_robin", team=TeamFactory(members=[other]))
    response = api.post(
        LEADS, {"first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0958"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Ada Lovelace" and body["phone"] == "+442079460958" and body["owner"] == other.pk
    own = api.post(LEADS, {"name": "Mine", "owner": rep.pk}, format="json").json()
    assert own["owner"] == rep.pk


def test_bad_input_is_a_400_with_field_errors_and_nothing_is_written(api):
    response = api.post(
        LEADS, {"name": "X", "email": "nope", "phone": "call me", "status": "converted", "score": 99}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and {"email", "score"} <= set(body["errors"])
    response = api.post(LEADS, {"name": "X", "phone": "call me"}, format="json")
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    response = api.post(LEADS, {"name": "X", "status": "converted"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_update_needs_the_version(api, rep):
    lead = make_lead(owner=rep)
    url = f"{LEADS}{lead.pk}/"
    assert api.patch(url, {"interest": "A"}, format="json").status_code == 400
    response = api.patch(url, {"interest": "A", "version": lead.version}, format="json")
    assert response.status_code == 200 and response.json()["interest"] == "A"
    stale = api.patch(url, {"interest": "B", "version": lead.version}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"


def test_convert(api, rep):
    pipeline = make_pipeline()
    company = customer_services.company_create(actor=rep, data={"name": "Acme"})
    lead = make_lead(owner=rep, name="Grace", email="grace@acme.example", company_name="ACME", interest="Licence")
    url = reverse("sales-api:lead-convert", args=[lead.pk])
    response = api.post(
        url, {"create_deal": True, "amount": "500", "currency": "USD", "version": lead.version}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted" and body["company"] == company.pk
    assert body["contact"] and body["deal"]
    lead.refresh_from_db()
    assert lead.deal.pipeline == pipeline and lead.deal.name == "Acme – Licence"
    again = api.post(url, {}, format="json")
    assert again.status_code == 400 and "already converted" in again.json()["errors"]["non_field_errors"][0]


def test_convert_errors(api, rep, roles):
    make_pipeline()
    lead = make_lead(owner=rep, name="Grace", company_name="Acme", status="qualified")
    url = reverse("sales-api:lead-convert", args=[lead.pk])
    response = api.post(url, {"create_deal": True, "amount": "lots", "currency": "ABC"}, format="json")
    assert response.status_code == 400 and {"amount", "currency"} & set(response.json()["errors"])
    stranger = make_user(module="sales", scope="own")
    assert api_client(stranger).post(url, {}, format="json").status_code == 404
    reader = make_user(module="sales", actions=("view",), scope="all")
    assert api_client(reader).post(url, {}, format="json").status_code == 403
    theirs = customer_services.contact_create(actor=make_user(module="customers", scope="own"), data={"full_name": "Z"})
    response = api.post(url, {"contact": theirs.pk}, format="json")
    assert response.status_code == 400 and "contact" in response.json()["errors"]
    lead.refresh_from_db()
    assert lead.status == "qualified"


def test_read_only_token_cannot_convert(rep):
    from rest_framework.test import APIClient

    from crm.accounts.tests.factories import make_token

    lead = make_lead(owner=rep, status="qualified")
    _token, secret = make_token(rep, read_only=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.post(reverse("sales-api:lead-convert", args=[lead.pk]), {}, format="json").status_code == 403


def test_assignment_rules_for_administrators(admin_user, rep):
    team = TeamFactory(members=[rep])
    admin = api_client(admin_user)
    response = admin.post(
        RULES, {"name": "China", "method": "round_robin", "team": team.pk, "countries": ["cn"]}, format="json"
    )
    assert response.status_code == 201, response.content
    rule = response.json()
    assert rule["countries"] == ["CN"] and rule["order"] == 0
    bad = admin.post(RULES, {"name": "", "method": "user", "sources": ["pigeon"]}, format="json")
    assert bad.status_code == 400 and {"name", "user", "sources"} <= set(bad.json()["errors"])
    url = f"{RULES}{rule['id']}/"
    assert admin.patch(url, {"is_active": False, "version": rule["version"]}, format="json").status_code == 200
    assert admin.patch(url, {"name": "Stale", "version": rule["version"]}, format="json").status_code == 409
    assert [row["name"] for row in admin.get(RULES).json()] == ["China"]
    assert api_client(rep).get(RULES).status_code == 403
    assert (
        api_client(rep).post(RULES, {"name": "Mine", "method": "user", "user": rep.pk}, format="json").status_code
        == 403
    )
    assert admin.delete(url).status_code == 204
    assert not AssignmentRule.objects.exists()
