"""The Forecast page: rendered from the stored runs only (nothing computed on the request), in English and
Chinese, with a pinned number of queries; who sees which forecast; the empty state and Recompute."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import TeamFactory
from crm.core.models import Job
from crm.core.testing import make_user
from crm.sales.forecasting import services
from crm.sales.forecasting.scopes import OWNER, PIPELINE, TEAM, Scope
from crm.sales.tests.test_forecasting_job import build_history

pytestmark = pytest.mark.django_db

URL = reverse("sales:forecast")
# The session, the user (with their role), the newest run of the scope.
PAGE_QUERIES = 3
TEAM_PAGE_QUERIES = 5  # and the person's teams and teammates (the data scope "team")


@pytest.fixture
def history():
    history = build_history(months=30)
    services.forecast_compute(today=history.today)
    return history


@pytest.fixture
def boss():
    return make_user(module="sales", scope="all", username="boss")


@pytest.fixture
def no_computing(monkeypatch):
    """The page must not compute: any call into the series or the methods fails the test."""
    from crm.sales.forecasting import engine, series

    def refuse(*args, **kwargs):
        raise AssertionError("the page computed a forecast")

    for module, name in ((series, "collect"), (series, "won_series"), (series, "weighted_pipeline")):
        monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(engine, "statistical_forecast", refuse)


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="forecast-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, "the chart's data is embedded"
    return json.loads(match.group(1))


def test_the_page_renders_the_stored_forecast(client, boss, history, no_computing):
    client.force_login(boss)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Accuracy of each method" in html
    assert 'data-testid="forecast-recommended"' in html
    assert "Seasonal naive" in html and "Linear regression" in html and "Exponential smoothing (ETS)" in html
    assert "baseline" in html
    assert "Coming months" in html and "Weighted pipeline" in html
    assert "vendor/echarts/echarts.min.js" in html and "crm/sales-forecast.js" in html
    assert "<script>" not in html  # no inline script: the chart reads its JSON
    data = chart_data(response)
    assert len(data["months"]) == 30 + 12
    assert {method["key"] for method in data["methods"]} == {"seasonal_naive", "linear", "ets"}
    assert sum(1 for method in data["methods"] if method["recommended"]) == 1
    assert data["history"][:30] == response.context["run"].result["history"]["amounts"]
    # The scope chooser lists every computed scope.
    for person in history.people:
        assert f'value="owner:{person.pk}"' in html
    assert f'value="team:{history.team.pk}"' in html and f'value="pipeline:{history.pipeline.pk}"' in html


def test_the_page_renders_in_simplified_chinese(client, boss, history, no_computing):
    boss.language = "zh-hans"
    boss.save()
    client.force_login(boss)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "US$" in html  # money formatted the Chinese way
    chart_data(response)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_has_a_pinned_number_of_queries(client, boss, history, django_assert_max_num_queries, language):
    client.force_login(boss)
    client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200


def test_a_team_managers_page_has_a_pinned_number_of_queries(client, history, django_assert_max_num_queries):
    manager = make_user(module="sales", scope="team")
    history.team.members.add(manager)
    client.force_login(manager)
    client.get(URL)
    with django_assert_max_num_queries(TEAM_PAGE_QUERIES):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.context["scope"] == Scope(TEAM, history.team.pk)


def test_a_rep_sees_their_own_forecast_only(client, history):
    rep, other = history.people
    rep.role.data_scope = "own"
    rep.role.save()
    client.force_login(rep)
    response = client.get(URL)  # their own by default
    assert response.status_code == 200 and response.context["scope"] == Scope(OWNER, rep.pk)
    html = response.content.decode()
    assert f'value="owner:{other.pk}"' not in html and 'value="all"' not in html
    for scope in (f"owner:{other.pk}", "all", f"team:{history.team.pk}", f"pipeline:{history.pipeline.pk}"):
        assert client.get(URL, {"scope": scope}).status_code == 404, scope
    assert client.get(URL, {"scope": "owner:abc"}).status_code == 404


def test_a_team_manager_sees_the_team_and_teammates_but_nobody_else(client, history):
    manager = make_user(module="sales", scope="team")
    history.team.members.add(manager)
    outsider = make_user(module="sales", scope="own")
    client.force_login(manager)
    assert client.get(URL, {"scope": f"team:{history.team.pk}"}).status_code == 200
    assert client.get(URL, {"scope": f"owner:{history.people[0].pk}"}).status_code == 200
    assert client.get(URL, {"scope": f"owner:{outsider.pk}"}).status_code == 404
    assert client.get(URL, {"scope": f"team:{TeamFactory().pk}"}).status_code == 404
    assert client.get(URL, {"scope": f"pipeline:{history.pipeline.pk}"}).status_code == 404
    assert client.get(URL, {"scope": "all"}).status_code == 404


def test_without_the_sales_permission_the_page_is_refused(client, history):
    client.force_login(make_user(module="customers", scope="all"))
    assert client.get(URL).status_code == 403


def test_too_little_history_is_said_plainly_and_only_the_pipeline_is_shown(client, boss):
    history = build_history(months=10, reps=1)
    services.forecast_compute(today=history.today)
    client.force_login(boss)
    response = client.get(URL, {"scope": f"pipeline:{history.pipeline.pk}"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not enough history for a statistical forecast." in html
    assert "There are 10 complete months of won deals" in html
    assert "Only the weighted pipeline is shown." in html
    assert "Accuracy of each method" not in html and 'data-testid="forecast-recommended"' not in html
    assert "Weighted pipeline" in html
    assert chart_data(response)["methods"] == []


def test_no_forecast_yet_shows_the_empty_state_with_recompute(client, boss):
    client.force_login(boss)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "No forecast yet" in html
    assert reverse("sales:forecast_recompute") in html
    assert 'id="forecast-data"' not in html


def test_recompute_starts_a_job_and_shows_its_progress(client, boss, django_capture_on_commit_callbacks):
    build_history(months=3, reps=1)
    client.force_login(boss)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sales:forecast_recompute"), {"scope": "all"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = Job.objects.get()
    assert f'id="job-{job.pk}"' in response.content.decode()
    page = client.get(URL, {"scope": "all", "job": str(job.pk)})
    assert "Recomputing the forecast" in page.content.decode()
    assert page.context["run"] is not None


def test_recompute_is_refused_without_edit(client, history):
    client.force_login(make_user(module="sales", actions=("view",), scope="all"))
    assert client.post(reverse("sales:forecast_recompute")).status_code == 403
    assert "forecast-recompute" not in client.get(URL).content.decode()


def test_the_navigation_has_the_forecast(client, boss):
    client.force_login(boss)
    html = client.get(reverse("core:dashboard")).content.decode()
    assert URL in html and "ti-chart-line" in html


def test_a_failed_run_says_so(client, boss, history):
    from crm.sales.choices import ForecastStatus
    from crm.sales.models import ForecastRun

    ForecastRun.objects.create(scope="all", status=ForecastStatus.FAILED, error="RuntimeError: boom")
    client.force_login(boss)
    html = client.get(URL).content.decode()
    assert "The last computation of this forecast failed." in html and "boom" in html


def test_pipeline_scope_page(client, boss, history):
    client.force_login(boss)
    response = client.get(URL, {"scope": Scope(PIPELINE, history.pipeline.pk).key})
    assert response.status_code == 200
    assert history.pipeline.name in response.content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_left_out_deals_undated_and_later_pipeline_and_quotas_are_shown(client, boss, language):
    from datetime import timedelta
    from decimal import Decimal

    from crm.sales.models import Deal, Quota
    from crm.sales.tests.factories import make_deal, stage

    history = build_history(months=26, reps=1)
    rep = history.people[0]
    make_deal(
        pipeline=history.pipeline,
        stage=stage(history.pipeline, "Won"),
        status="won",
        owner=rep,
        amount=Decimal("100"),
        currency="GBP",  # no exchange rate
        closed_on=history.today.replace(day=1) - timedelta(days=40),
    )
    make_deal(pipeline=history.pipeline, owner=rep, amount=Decimal("1000"), probability=50, expected_close_date=None)
    make_deal(
        pipeline=history.pipeline,
        owner=rep,
        amount=Decimal("1000"),
        probability=50,
        expected_close_date=history.today + timedelta(days=800),
    )
    Quota.objects.create(user=rep, month=history.today.replace(day=1), amount=Decimal("12345"))
    assert Deal.objects.filter(currency="GBP").count() == 1
    services.forecast_compute(today=history.today)
    boss.language = language
    boss.save()
    client.force_login(boss)
    response = client.get(URL, {"scope": f"owner:{rep.pk}"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="forecast-skipped"' in html and "GBP" in html
    assert "12,345.00" in html
    if language == "en":
        assert "1 deal in a currency without an exchange rate (GBP) is left out" in html
        assert "1 open deal without an expected close date ($500.00 weighted)" in html
        assert "1 open deal is expected to close later ($500.00 weighted)" in html


def test_a_method_that_failed_is_shown_as_failed(client, boss, history):
    from crm.sales.models import ForecastRun

    run = ForecastRun.objects.filter(scope="all").latest("created_at")
    result = run.result
    ets = next(method for method in result["statistics"]["methods"] if method["key"] == "ets")
    ets.update(ok=False, error="not_converged", forecast=[], lower80=[], upper80=[], lower95=[], upper95=[])
    ets["backtest"].update(ok=False, mape=None, mae=None, failed_origins=2)
    result["statistics"]["recommended"] = "seasonal_naive"
    ForecastRun.objects.create(scope="all", status=run.status, result=result, months=12)
    client.force_login(boss)
    response = client.get(URL)
    html = response.content.decode()
    assert "No forecast: the model did not converge." in html
    assert "Failed at 2 backtest origins." in html
    assert [method["key"] for method in chart_data(response)["methods"]] == ["seasonal_naive", "linear"]
