"""``/api/v1/forecasts/``: the newest stored run of each scope the caller may see; recompute as a job."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import make_token
from crm.core.models import Job
from crm.core.testing import api_client, make_user
from crm.sales.choices import ForecastStatus
from crm.sales.forecasting import services
from crm.sales.forecasting.scopes import OWNER, TEAM, Scope
from crm.sales.models import ForecastRun
from crm.sales.tests.test_forecasting_job import build_history

pytestmark = pytest.mark.django_db

API = reverse("sales-api:forecast-list")


@pytest.fixture
def history():
    history = build_history(months=26)
    services.forecast_compute(today=history.today)
    services.forecast_compute(today=history.today)  # two runs of each scope: only the newer is listed
    return history


def test_everyone_sees_the_newest_run_of_every_scope(history):
    boss = make_user(module="sales", scope="all")
    response = api_client(boss).get(API)
    assert response.status_code == 200
    rows = response.json()["results"]
    scopes = [row["scope"] for row in rows]
    assert len(scopes) == len(set(scopes)) == 5  # everyone, the team, the pipeline, two reps
    newest = {run.scope: run.pk for run in ForecastRun.objects.order_by("created_at", "id")}
    assert {row["scope"]: row["id"] for row in rows} == newest
    everyone = next(row for row in rows if row["scope"] == "all")
    assert everyone["kind"] == "all" and everyone["status"] == ForecastStatus.READY
    statistics = everyone["result"]["statistics"]
    assert statistics["status"] == "ok" and statistics["recommended"] in {"seasonal_naive", "linear", "ets"}
    assert len(everyone["result"]["months"]) == 12


def test_filters_by_scope_and_kind(history):
    client = api_client(make_user(module="sales", scope="all"))
    rep = history.people[0]
    rows = client.get(API, {"scope": f"owner:{rep.pk}"}).json()["results"]
    assert [row["scope"] for row in rows] == [f"owner:{rep.pk}"] and rows[0]["label"] == str(rep)
    kinds = {row["kind"] for row in client.get(API, {"kind": "owner"}).json()["results"]}
    assert kinds == {"owner"}


def test_a_rep_sees_their_own_forecast_only(history):
    rep, other = history.people
    client = api_client(rep)
    rows = client.get(API).json()["results"]
    assert [row["scope"] for row in rows] == [Scope(OWNER, rep.pk).key]
    assert "scopes" not in rows[0]["result"]  # the index of everybody's forecasts stays on the server
    theirs = ForecastRun.objects.filter(scope=Scope(OWNER, other.pk).key).first()
    assert client.get(reverse("sales-api:forecast-detail", args=[theirs.pk])).status_code == 404
    everyone = ForecastRun.objects.filter(scope="all").first()
    assert client.get(reverse("sales-api:forecast-detail", args=[everyone.pk])).status_code == 404


def test_a_team_manager_sees_the_team_and_teammates(history):
    manager = make_user(module="sales", scope="team")
    history.team.members.add(manager)
    scopes = {row["scope"] for row in api_client(manager).get(API).json()["results"]}
    assert scopes == {Scope(TEAM, history.team.pk).key, *(Scope(OWNER, person.pk).key for person in history.people)}


def test_no_sales_permission_no_forecasts(history):
    assert api_client(make_user(module="customers", scope="all")).get(API).status_code == 403


def test_the_api_is_read_only_but_recompute_starts_a_job(history):
    boss = make_user(module="sales", scope="all")
    client = api_client(boss)
    assert client.post(API, {}, format="json").status_code == 405
    response = client.post(reverse("sales-api:forecast-recompute"))
    assert response.status_code == 202
    assert response.json()["kind"] == services.FORECAST_JOB
    assert Job.objects.filter(kind=services.FORECAST_JOB).count() == 1


def test_recompute_needs_edit_and_a_writing_token(history):
    viewer = make_user(module="sales", actions=("view",), scope="all")
    assert api_client(viewer).post(reverse("sales-api:forecast-recompute")).status_code == 403
    from rest_framework.test import APIClient

    boss = make_user(module="sales", scope="all")
    _token, secret = make_token(boss, read_only=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(API).status_code == 200
    assert client.post(reverse("sales-api:forecast-recompute")).status_code == 403
    assert not Job.objects.exists()
