"""API of lead scoring: ``/api/v1/scoring-rules/`` (CRUD for those who manage scoring) and
``/api/v1/scoring-models/`` (read-only, ``latest``, and ``train``)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.core.models import Job
from crm.core.testing import api_client, journal_entries, make_user
from crm.sales.models import ScoringModel, ScoringRule
from crm.sales.scoring import services
from crm.sales.tests.test_scoring_model import make_history

pytestmark = pytest.mark.django_db

RULES = reverse("sales-api:scoring-rule-list")
MODELS = reverse("sales-api:scoring-model-list")
LATEST = reverse("sales-api:scoring-model-latest")
TRAIN = reverse("sales-api:scoring-model-train")


def rule_url(rule):
    return reverse("sales-api:scoring-rule-detail", args=[rule.pk])


@pytest.fixture
def boss(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_manager"])


@pytest.fixture
def worker(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_rep"])


PAYLOAD = {"name": "Engaged", "field": "activities", "operator": "at_least", "value": "2", "points": 25}


def test_a_manager_manages_rules(boss):
    api = api_client(boss)
    response = api.post(RULES, PAYLOAD, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "engagement" and created["version"] == 1
    rule = ScoringRule.objects.get()
    response = api.patch(rule_url(rule), {"points": 30, "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["points"] == 30
    stale = api.patch(rule_url(rule), {"points": 35, "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert api.get(RULES).json()[0]["points"] == 30
    assert api.delete(rule_url(rule)).status_code == 204
    assert not ScoringRule.objects.exists()
    assert [entry.source for entry in journal_entries(rule)] == ["api", "api", "api"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"operator": "contains"}, "operator"),
        ({"value": "two"}, "value"),
        ({"field": "salary"}, "field"),
        ({"points": 101}, "points"),
        ({"points": 0}, "points"),
        ({"owner": 3}, "owner"),
        ({"version": 4}, "version"),
    ],
)
def test_bad_input_is_a_400_with_the_field_named_and_nothing_written(boss, changes, field):
    response = api_client(boss).post(RULES, {**PAYLOAD, **changes}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not ScoringRule.objects.exists()


def test_a_sales_rep_reads_but_may_not_write(boss, worker):
    rule = ScoringRule.objects.create(name="X", field="industry", operator="not_empty", value="", points=5)
    api = api_client(worker)
    assert api.get(RULES).status_code == 200
    assert api.get(rule_url(rule)).json()["name"] == "X"
    assert api.post(RULES, PAYLOAD, format="json").status_code == 403
    assert api.patch(rule_url(rule), {"points": 9, "version": 1}, format="json").status_code == 403
    assert api.delete(rule_url(rule)).status_code == 403
    assert api.post(TRAIN).status_code == 403
    assert ScoringRule.objects.get().points == 5 and not Job.objects.exists()


def test_without_sales_or_with_a_read_only_token_nothing_is_allowed(boss, roles):
    from crm.accounts.tests.factories import make_token

    outsider = api_client(make_user(module="customers"))
    assert outsider.get(RULES).status_code == 403
    assert outsider.get(MODELS).status_code == 403
    _token, secret = make_token(boss, read_only=True)
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert reader.get(RULES).status_code == 200
    assert reader.post(RULES, PAYLOAD, format="json").status_code == 403
    assert reader.post(TRAIN).status_code == 403
    assert APIClient().get(RULES).status_code in (401, 403)


def test_models_list_latest_and_train(boss, worker, django_capture_on_commit_callbacks):
    api = api_client(worker)
    assert api.get(LATEST).status_code == 404
    make_history(42)
    services.scoring_model_train()
    latest = api.get(LATEST).json()
    assert latest["is_active"] is False and latest["message"].startswith("Not enough history yet")
    make_history(400, seed=11)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(boss).post(TRAIN)
    assert response.status_code == 202 and response.json()["kind"] == services.TRAIN_JOB
    latest = api.get(LATEST).json()
    assert latest["is_active"] is True and latest["roc_auc"] > 0.7
    assert set(latest["parameters"]) >= {"features", "coef", "intercept", "mean", "scale"}
    listed = api.get(MODELS).json()["results"]
    assert [row["id"] for row in listed] == list(ScoringModel.objects.order_by("-pk").values_list("pk", flat=True))
    assert api.post(MODELS, {}, format="json").status_code in (403, 405)
