"""Measure the forecast: ``python -m crm.sales.forecasting.bench [--reps 50] [--years 5]``.

On a fresh SQLite database in a temporary folder (or the database ``--database-url`` names; its name
must contain ``bench``, as it is written to) it generates ``--years`` of won deals for ``--reps`` reps
(a trend, a yearly cycle, noise; a few in euros) and an open pipeline, then measures:

- the compute job (every scope: everyone, each rep, each team, each pipeline), through the same path a
  Recompute job takes;
- the Forecast page rendered from the stored runs by an in-process test client: median and p95 of
  ``--requests`` requests, for everyone and for one rep;
- accuracy on a real public series: Australian wine sales by month, Jan 1980 – Aug 1994 (``wineind``,
  shipped with pmdarima, a development dependency), backtested exactly as the page does: each
  method's MAPE and MAE against the seasonal-naive baseline, and the recommended method.

It prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from typing import Any

from crm.core.crypto import keyfile


def generate(*, reps: int, years: int, today: date, seed: int = 42) -> dict[str, Any]:
    """Users, teams, two pipelines, won deals for ``years`` complete years and an open pipeline."""
    import numpy as np

    from crm.accounts.models import Role, Team, User
    from crm.accounts.services import roles_sync_builtin
    from crm.sales.choices import DealStatus, StageKind
    from crm.sales.models import Deal, ExchangeRate, Pipeline, Quota, Stage

    from .series import add_months

    rng = np.random.default_rng(seed)
    roles_sync_builtin()
    rep_role = Role.objects.get(builtin="sales_rep")
    boss = User.objects.create(username="bench-boss", is_superuser=True, email="boss@bench.example.com")
    people = User.objects.bulk_create(
        [
            User(username=f"bench-rep-{index}", first_name="Rep", last_name=f"{index:02d}", role=rep_role, email="")
            for index in range(reps)
        ]
    )
    people = list(User.objects.filter(username__startswith="bench-rep-").order_by("pk"))
    teams = [Team.objects.create(name=f"Bench team {index + 1}") for index in range((reps + 9) // 10)]
    for index, person in enumerate(people):
        teams[index // 10].members.add(person)
    pipelines = []
    for number, name in enumerate(("New business", "Renewals")):
        pipeline = Pipeline.objects.create(name=name, order=number, is_default=number == 0)
        stages = {}
        for order, (stage_name, probability, kind) in enumerate(
            (("Qualify", 10, "open"), ("Propose", 40, "open"), ("Negotiate", 70, "open"), ("Won", 100, "won"))
        ):
            stages[stage_name] = Stage.objects.create(
                pipeline=pipeline, name=stage_name, order=order, probability=probability, kind=StageKind(kind)
            )
        pipelines.append((pipeline, stages))
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.08"), valid_from=date(today.year - years - 1, 1, 1))
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.12"), valid_from=date(today.year - 1, 1, 1))

    current = today.replace(day=1)
    months = years * 12
    deals: list[Deal] = []
    for index, person in enumerate(people):
        level = rng.uniform(20_000, 60_000)  # this rep's monthly sales at the start
        growth = rng.uniform(0.002, 0.015)  # per month
        phase = rng.integers(0, 2)
        team = teams[index // 10]
        for step in range(months, 0, -1):
            month = add_months(current, -step)
            t = months - step
            season = 1 + 0.35 * np.sin(2 * np.pi * (month.month - 3 + phase) / 12) + 0.2 * (month.month == 12)
            target = level * (1 + growth) ** t * season
            count = int(rng.integers(4, 11))
            weights = rng.dirichlet(np.ones(count))
            for deal_number, weight in enumerate(weights):
                pipeline, stages = pipelines[deal_number % 3 == 2]
                amount = max(100.0, target * weight * rng.lognormal(0, 0.25))
                euro = deal_number % 7 == 6
                deals.append(
                    Deal(
                        name=f"Deal {index}-{t}-{deal_number}",
                        pipeline=pipeline,
                        stage=stages["Won"],
                        status=DealStatus.WON,
                        owner=person,
                        team=team,
                        amount=Decimal(str(round(amount / (1.1 if euro else 1), 2))),
                        currency="EUR" if euro else "USD",
                        probability=100,
                        closed_on=month.replace(day=int(rng.integers(1, 29))),
                    )
                )
        for number in range(40):
            pipeline, stages = pipelines[number % 3 == 2]
            stage = stages[("Qualify", "Propose", "Negotiate")[number % 3]]
            deals.append(
                Deal(
                    name=f"Open {index}-{number}",
                    pipeline=pipeline,
                    stage=stage,
                    owner=person,
                    team=team,
                    amount=Decimal(str(round(rng.uniform(2_000, 40_000), 2))),
                    currency="USD",
                    probability=stage.probability,
                    expected_close_date=add_months(current, int(rng.integers(-2, 15))).replace(day=15),
                )
            )
    # Bench data is written straight to the table: the journal of real changes is not what is measured.
    Deal._base_manager.bulk_create(deals, batch_size=2000)
    Quota.objects.bulk_create(
        [
            Quota(user=person, month=add_months(current, step), amount=Decimal("50000"))
            for person in people
            for step in range(-12, 12)
        ]
    )
    won = sum(1 for deal in deals if deal.status == DealStatus.WON)
    return {
        "boss": boss,
        "rep": people[0],
        "reps": reps,
        "teams": len(teams),
        "months": months,
        "won_deals": won,
        "open_deals": len(deals) - won,
    }


def time_compute(user: Any) -> dict[str, Any]:
    """Run the forecast job the way Recompute does (a Job, its progress, every scope stored)."""
    from crm.core.models import Job
    from crm.core.services import job_run
    from crm.sales.models import ForecastRun

    from .services import FORECAST_JOB
    from .tasks import _compute_job

    job = Job.objects.create(kind=FORECAST_JOB, created_by=user)
    started = time.perf_counter()
    job_run(job_id=str(job.pk), work=_compute_job)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    recommended: dict[str, int] = {}
    failed_methods: dict[str, int] = {}
    beats_baseline = 0
    for result in ForecastRun.objects.filter(job=job).values_list("result", flat=True):
        stats = (result or {}).get("statistics") or {}
        choice = stats.get("recommended") or "none (too little history)"
        recommended[choice] = recommended.get(choice, 0) + 1
        beats_baseline += choice in ("linear", "ets")
        for method in stats.get("methods") or []:
            if not method["ok"] or not method["backtest"]["ok"]:
                failed_methods[method["key"]] = failed_methods.get(method["key"], 0) + 1
    return {
        "seconds": round(seconds, 3),
        "status": job.status,
        "scopes": job.result.get("scopes"),
        "error": job.error,
        "recommended": recommended,
        "scopes_where_a_model_beats_seasonal_naive": beats_baseline,
        "failed_methods": failed_methods,
    }


def time_page(user: Any, *, query: dict[str, str], requests: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.urls import reverse

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    url = reverse("sales:forecast")
    for _ in range(3):
        response = client.get(url, query)
        assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, query)
        timings.append((time.perf_counter() - started) * 1000)
    force_debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True
    reset_queries()
    client.get(url, query)
    queries = len(connection.queries)
    connection.force_debug_cursor = force_debug_cursor
    timings.sort()
    return {
        "requests": requests,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[max(0, round(0.95 * len(timings)) - 1)], 2),
        "queries": queries,
        "bytes": len(response.content),
    }


def accuracy() -> dict[str, Any]:
    """The page's backtest on Australian wine sales (pmdarima's ``wineind``)."""
    try:
        from pmdarima.datasets import load_wineind
    except ImportError:
        return {"skipped": "pmdarima is not installed (it is a development dependency)"}

    from .codes import SEASONAL_NAIVE
    from .engine import statistical_forecast
    from .services import single_threaded_blas

    series = [float(value) for value in load_wineind()]
    started = time.perf_counter()
    with single_threaded_blas():
        result = statistical_forecast(series, h=12)
    seconds = time.perf_counter() - started
    methods = {
        method["key"]: {
            "mape": method["backtest"]["mape"],
            "mae": method["backtest"]["mae"],
            "spec": method["spec"],
        }
        for method in result["methods"]
    }
    recommended = result["recommended"]
    baseline = methods[SEASONAL_NAIVE]["mape"]
    return {
        "series": "wineind: Australian wine sales by wine makers, monthly, Jan 1980 - Aug 1994 (pmdarima)",
        "months": len(series),
        "backtest": result["backtest"],
        "methods": methods,
        "recommended": recommended,
        "recommended_beats_seasonal_naive": recommended != SEASONAL_NAIVE and methods[recommended]["mape"] < baseline,
        "seconds": round(seconds, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.sales.forecasting.bench", description=__doc__)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", action="store_true", help="print the 30 most expensive functions of the job")
    args = parser.parse_args(argv)
    if not 1 <= args.reps <= 1000 or not 1 <= args.years <= 20 or not 1 <= args.requests <= 10_000:
        parser.error("--reps 1..1000, --years 1..20, --requests 1..10000")
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench_forecast.sqlite3"
        if "bench" not in url.rsplit("/", 1)[-1]:
            parser.error("the database's name must contain 'bench': it is written to")
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("MEDIA_ROOT", folder)
        os.environ.setdefault("CRM_LOCAL_DIR", folder)
        if not os.environ.get("CRM_FIELD_KEYS"):  # a new database: new keys, in the scratch folder
            os.environ["CRM_KEY_FILE"] = str(keyfile.create_in(folder))
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        if args.database_url:
            call_command("flush", interactive=False, verbosity=0)

        today = timezone.localdate()
        started = time.perf_counter()
        data = generate(reps=args.reps, years=args.years, today=today)
        generated = time.perf_counter() - started

        # A running worker has statsmodels loaded and its URLs resolved: neither is the job's time.
        started = time.perf_counter()
        import statsmodels.api  # noqa: F401
        from django.urls import reverse
        from statsmodels.tsa.exponential_smoothing import ets  # noqa: F401

        reverse("core:job_detail", args=["00000000-0000-0000-0000-000000000000"])
        imports = time.perf_counter() - started
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            compute = profiler.runcall(time_compute, data["boss"])
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        else:
            compute = time_compute(data["boss"])
        figures = {
            "data": {
                "reps": data["reps"],
                "teams": data["teams"],
                "months_of_history": data["months"],
                "won_deals": data["won_deals"],
                "open_deals": data["open_deals"],
                "generated_in_s": round(generated, 1),
            },
            "warm_up_s": round(imports, 2),
            "compute_job": {**compute, "target_s": 10, "within_target": compute["seconds"] < 10},
            "page_everyone": {**time_page(data["boss"], query={}, requests=args.requests), "target_p95_ms": 50},
            "page_one_rep": time_page(data["rep"], query={"scope": f"owner:{data['rep'].pk}"}, requests=args.requests),
            "accuracy": accuracy(),
            "database": connection_vendor(),
        }
    print(json.dumps(figures, indent=2, default=str))
    return 0


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    sys.exit(main())
