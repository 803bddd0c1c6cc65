"""The forecast job: one stored run per scope, old runs pruned, a failing scope does not lose the
others, the daily task and the Recompute job with its progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest
from django.utils import timezone

from crm.accounts.tests.factories import TeamFactory
from crm.core.choices import JobStatus
from crm.core.models import Job
from crm.core.registry import platform
from crm.core.testing import make_user
from crm.sales.choices import DealStatus, ForecastStatus
from crm.sales.forecasting import services
from crm.sales.forecasting.scopes import ALL, OWNER, PIPELINE, TEAM, Scope
from crm.sales.forecasting.series import add_months
from crm.sales.forecasting.tasks import forecast_compute_task
from crm.sales.models import Deal, ForecastRun, Quota
from crm.sales.tests.factories import make_pipeline, stage

pytestmark = pytest.mark.django_db


def build_history(*, months: int = 36, reps: int = 2, today: date | None = None, seed: int = 5) -> SimpleNamespace:
    """A pipeline, ``reps`` sales reps in one team, a won deal per rep per month for ``months`` complete
    months (a trend and a yearly cycle), and an open deal per rep closing next month."""
    today = today or timezone.localdate()
    current = today.replace(day=1)
    rng = np.random.default_rng(seed)
    pipeline = make_pipeline()
    won_stage, open_stage = stage(pipeline, "Won"), stage(pipeline, "Proposal")
    people = [make_user(module="sales", scope="own", username=f"rep{index}") for index in range(reps)]
    team = TeamFactory(name="Sales East", members=people)
    deals = []
    for index, person in enumerate(people):
        for step in range(months, 0, -1):
            month = add_months(current, -step)
            t = months - step
            amount = 10_000 + 150 * t + 4_000 * np.sin(2 * np.pi * month.month / 12) + rng.normal(0, 600)
            deals.append(
                Deal(
                    name=f"Won {index}-{t}",
                    pipeline=pipeline,
                    stage=won_stage,
                    status=DealStatus.WON,
                    owner=person,
                    amount=Decimal(str(round(max(amount, 100), 2))),
                    currency="USD",
                    probability=100,
                    closed_on=month.replace(day=10),
                )
            )
        deals.append(
            Deal(
                name=f"Open {index}",
                pipeline=pipeline,
                stage=open_stage,
                owner=person,
                amount=Decimal("8000.00"),
                currency="USD",
                probability=50,
                expected_close_date=add_months(current, 1),
            )
        )
    Deal._base_manager.bulk_create(deals)
    return SimpleNamespace(pipeline=pipeline, people=people, team=team, today=today)


def test_compute_stores_a_run_for_every_scope():
    history = build_history(months=30)
    rep = history.people[0]
    Quota.objects.create(user=rep, month=history.today.replace(day=1), amount=Decimal("15000"))

    summary = services.forecast_compute(today=history.today)

    expected = {
        Scope(ALL).key,
        Scope(TEAM, history.team.pk).key,
        Scope(PIPELINE, history.pipeline.pk).key,
        *(Scope(OWNER, person.pk).key for person in history.people),
    }
    assert summary["scopes"] == len(expected) and summary["failed"] == 0
    runs = {run.scope: run for run in ForecastRun.objects.all()}
    assert set(runs) == expected
    assert all(run.status == ForecastStatus.READY and run.months == 12 for run in runs.values())
    mine = runs[Scope(OWNER, rep.pk).key].result
    assert mine["label"] == str(rep)
    assert len(mine["history"]["months"]) == 30
    assert mine["statistics"]["status"] == "ok"
    assert mine["pipeline"]["amounts"][1] == 4000.0  # 8,000 × 50% next month
    assert mine["quotas"][mine["months"][0]] == 15000.0
    assert runs[Scope(TEAM, history.team.pk).key].result["quotas"][mine["months"][0]] == 15000.0
    assert {entry["key"] for entry in mine["scopes"]} == expected


def test_only_the_newest_runs_of_each_scope_are_kept():
    build_history(months=6, reps=1)
    for _ in range(services.KEEP_RUNS + 2):
        services.forecast_compute()
    counts = {
        scope: ForecastRun.objects.filter(scope=scope).count()
        for scope in ForecastRun.objects.values_list("scope", flat=True)
    }
    assert set(counts.values()) == {services.KEEP_RUNS}


def test_a_scope_that_fails_is_stored_as_failed_and_the_others_are_kept(monkeypatch):
    history = build_history(months=26, reps=1)
    from crm.sales.forecasting import engine

    real = engine.statistical_forecast
    calls = {"count": 0}

    def flaky(values, **kwargs):
        calls["count"] += 1
        if calls["count"] == 1:
            raise RuntimeError("boom")
        return real(values, **kwargs)

    monkeypatch.setattr(engine, "statistical_forecast", flaky)
    summary = services.forecast_compute(today=history.today)
    assert summary["failed"] == 1
    statuses = list(ForecastRun.objects.values_list("status", flat=True))
    assert statuses.count(ForecastStatus.FAILED) == 1
    assert statuses.count(ForecastStatus.READY) == len(statuses) - 1
    failed = ForecastRun.objects.get(status=ForecastStatus.FAILED)
    assert "boom" in failed.error


def test_the_daily_task_computes_without_a_job():
    build_history(months=3, reps=1)
    summary = forecast_compute_task()
    assert summary["scopes"] >= 3 and ForecastRun.objects.exists()


def test_recompute_is_a_job_with_progress(roles, django_capture_on_commit_callbacks):
    build_history(months=3, reps=1)
    manager = make_user(module="sales", actions=("view", "edit"), scope="all")
    assert platform.jobs[services.FORECAST_JOB] is forecast_compute_task
    with django_capture_on_commit_callbacks(execute=True):
        job = services.forecast_recompute_start(actor=manager)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.progress == 100
    assert job.result["scopes"] >= 3
    assert ForecastRun.objects.filter(job=job).count() == job.result["scopes"]


def test_recompute_needs_the_edit_permission():
    from django.core.exceptions import PermissionDenied

    viewer = make_user(module="sales", actions=("view",), scope="all")
    with pytest.raises(PermissionDenied):
        services.forecast_recompute_start(actor=viewer)
    assert not Job.objects.exists()


def test_a_waiting_recompute_is_not_started_twice():
    manager = make_user(module="sales", actions=("view", "edit"), scope="all")
    first = services.forecast_recompute_start(actor=manager)  # not committed: stays waiting
    second = services.forecast_recompute_start(actor=manager)
    assert first.pk == second.pk
    assert Job.objects.count() == 1
