"""Writes of the forecast and of quotas.

- Quotas: set, change and remove what a person or a team should win in a month (in the company's
  currency). Managers do it: sales ``edit`` and data scope team (their teams and teammates) or all.
  Each write is journaled (``Quota`` is registered) and names the version it started from.
- Forecast: ``forecast_compute`` reads every scope's won series and weighted pipeline (a few aggregate
  queries in all), runs the methods and the backtest, and stores one ``ForecastRun`` per scope; the page
  and the API only read the stored runs. It runs daily (``sales.forecast_compute_task``) and when a
  person presses Recompute (a job with progress). The last ``KEEP_RUNS`` runs of each scope are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.choices import JobStatus
from crm.core.exceptions import ConflictError
from crm.core.models import Job
from crm.core.money import base_currency, parse_amount
from crm.core.services import JOB_LEASE, job_start
from crm.core.versioning import save_versioned

from ..choices import ForecastStatus
from ..currency import RateBook
from ..models import ForecastRun, Quota
from . import results, selectors
from .scopes import ALL, MODULE, Scope
from .series import HORIZON, add_months, collect, empty_pipeline, empty_won, month_key, team_members

logger = logging.getLogger(__name__)

KEEP_RUNS = 5
FORECAST_JOB = "sales_forecast"

# --- quotas -----------------------------------------------------------------------------------------------


def can_set_quotas(user: Any) -> bool:
    """May ``user`` set anybody's quota (a manager: sales edit with data scope team or all)?"""
    people, teams = selectors.quota_reach(user, action="edit")
    return people is None or bool(people) or bool(teams)


def _require_target(actor: Any, *, user_id: int | None, team_id: int | None) -> None:
    """The actor may set quotas, and this person's or team's."""
    if (user_id is None) == (team_id is None):
        raise ValidationError({"user": _("Give the quota either to a person or to a team.")})
    if not access.can(actor, MODULE, "edit"):
        raise PermissionDenied
    people, teams = selectors.quota_reach(actor, action="edit")
    if user_id is not None and people is not None and user_id not in people:
        raise ValidationError({"user": _("You cannot set quotas for this person.")})
    if team_id is not None and teams is not None and team_id not in teams:
        raise ValidationError({"team": _("You cannot set quotas for this team.")})


def parse_month(value: Any) -> date:
    """A month from ``2026-05``, ``2026-05-01`` or a date; a clear error for anything else."""
    if isinstance(value, date):
        month = value
    else:
        text = str(value or "").strip()
        try:
            parts = [int(part) for part in text.split("-")]
            if len(parts) == 2:
                month = date(parts[0], parts[1], 1)
            elif len(parts) == 3:
                month = date(parts[0], parts[1], parts[2])
            else:
                raise ValueError
        except ValueError:
            raise ValidationError({"month": _("Enter a month as YYYY-MM, e.g. 2026-05.")}) from None
    if month.day != 1:
        raise ValidationError({"month": _("A quota is for a whole month: give its first day, e.g. 2026-05-01.")})
    if not 2000 <= month.year <= 2100:
        raise ValidationError({"month": _("Enter a month between 2000 and 2100.")})
    return month


def parse_quota_amount(value: Any, *, field: str = "amount") -> Decimal | None:
    """A quota amount (``None`` for an empty value: no quota); a field error for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError({field: _("Enter an amount, e.g. 1250.00.")})
    try:
        amount = parse_amount(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({field: _("Use at most two decimals.")})
    return amount


def _existing(*, user_id: int | None, team_id: int | None, month: date) -> Quota | None:
    owner = Q(user_id=user_id) if user_id is not None else Q(team_id=team_id)
    return Quota.objects.filter(owner, month=month).first()


def _create(*, user_id: int | None, team_id: int | None, month: date, amount: Decimal) -> Quota:
    quota = Quota(user_id=user_id, team_id=team_id, month=month, amount=amount)
    quota.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            quota.save()
    except IntegrityError:
        # Someone set the same quota a moment ago.
        raise ConflictError(current=_existing(user_id=user_id, team_id=team_id, month=month)) from None
    return quota


@transaction.atomic
def quota_set(
    *,
    actor: Any,
    month: Any,
    amount: Any,
    user_id: int | None = None,
    team_id: int | None = None,
    version: int | None = None,
) -> Quota | None:
    """Set (or, with an empty amount, remove) the quota of a person or a team for a month.

    ``version`` is that of the quota the person saw (``None``: they saw none). A change made meanwhile by
    someone else is a conflict; setting the amount already stored changes nothing.
    """
    _require_target(actor, user_id=user_id, team_id=team_id)
    month = parse_month(month)
    value = parse_quota_amount(amount)
    current = _existing(user_id=user_id, team_id=team_id, month=month)
    return _apply(current=current, user_id=user_id, team_id=team_id, month=month, value=value, version=version)


def _apply(
    *,
    current: Quota | None,
    user_id: int | None,
    team_id: int | None,
    month: date,
    value: Decimal | None,
    version: int | None,
) -> Quota | None:
    if current is None:
        if version is not None:
            raise ConflictError(current=None)  # it was removed meanwhile
        if value is None:
            return None
        return _create(user_id=user_id, team_id=team_id, month=month, amount=value)
    if value is not None and current.amount == value:
        return current
    if version is None or version != current.version:
        raise ConflictError(current=current)
    if value is None:
        if Quota.objects.filter(pk=current.pk, version=version).delete()[0] == 0:
            raise ConflictError(current=current)
        return None
    current.amount = value
    return save_versioned(current, expected_version=version, update_fields=["amount"])


@transaction.atomic
def quota_row_save(
    *, actor: Any, user_id: int | None = None, team_id: int | None = None, cells: list[tuple[date, Any, Any]]
) -> dict[date, Quota | None]:
    """Save a row of the quota grid: ``cells`` holds (month, amount as typed, version seen or "").

    Every amount is checked first; one bad cell writes nothing and the error names its month
    (``ValidationError`` keyed ``YYYY-MM``). A conflict on any cell writes nothing either.
    """
    _require_target(actor, user_id=user_id, team_id=team_id)
    parsed: list[tuple[date, Decimal | None, int | None]] = []
    errors: dict[str, list[str]] = {}
    for month, raw_amount, raw_version in cells:
        key = month_key(month)
        try:
            parsed.append((month, parse_quota_amount(raw_amount, field=key), _version(raw_version)))
        except ValidationError as exc:
            errors[key] = exc.message_dict.get(key, exc.messages)
    if errors:
        raise ValidationError(errors)
    months = [month for month, _amount, _version_seen in parsed]
    existing = {
        quota.month: quota
        for quota in Quota.objects.filter(
            Q(user_id=user_id) if user_id is not None else Q(team_id=team_id), month__in=months
        )
    }
    saved: dict[date, Quota | None] = {}
    for month, value, version in parsed:
        saved[month] = _apply(
            current=existing.get(month), user_id=user_id, team_id=team_id, month=month, value=value, version=version
        )
    return saved


def _version(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


@transaction.atomic
def quota_create(*, actor: Any, data: dict[str, Any]) -> Quota:
    """A new quota (the API): ``user`` or ``team`` (an instance or an id), ``month``, ``amount``."""
    user_id, team_id = _id(data.get("user")), _id(data.get("team"))
    _require_target(actor, user_id=user_id, team_id=team_id)
    month = parse_month(data.get("month"))
    amount = parse_quota_amount(data.get("amount"))
    if amount is None:
        raise ValidationError({"amount": _("Enter an amount, e.g. 1250.00.")})
    if _existing(user_id=user_id, team_id=team_id, month=month) is not None:
        raise ValidationError({"month": _("There is a quota for this month already; change that one.")})
    return _create(user_id=user_id, team_id=team_id, month=month, amount=amount)


@transaction.atomic
def quota_update(*, actor: Any, quota: Quota, data: dict[str, Any], version: int) -> Quota:
    """Change a quota's amount (to move it to another month or person, remove it and add another)."""
    _require_target(actor, user_id=quota.user_id, team_id=quota.team_id)
    unknown = set(data) - {"amount"}
    if unknown:
        raise ValidationError(
            {name: _("This cannot be changed; remove the quota and add another.") for name in unknown}
        )
    amount = parse_quota_amount(data.get("amount"))
    if amount is None:
        raise ValidationError({"amount": _("Enter an amount, e.g. 1250.00.")})
    quota.amount = amount
    return save_versioned(quota, expected_version=version, update_fields=["amount"])


@transaction.atomic
def quota_delete(*, actor: Any, quota: Quota) -> None:
    _require_target(actor, user_id=quota.user_id, team_id=quota.team_id)
    quota.delete()


def _id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(getattr(value, "pk", value))


# --- forecast ---------------------------------------------------------------------------------------------

ProgressFn = Callable[[int, str], None]


def forecast_compute(
    *, today: date | None = None, progress: ProgressFn | None = None, job: Job | None = None
) -> dict[str, Any]:
    """Compute and store the forecast of every scope with deals (everyone, each owner, each team, each
    pipeline) for the current month and the 11 after it. Returns a summary (scopes, seconds)."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    rates = RateBook()
    collected = collect(today=today, rates=rates, horizon=HORIZON)
    scopes = collected.scopes or [Scope(ALL)]
    if Scope(ALL) not in scopes:
        scopes = [Scope(ALL), *scopes]
    labels = selectors.scope_labels(scopes)
    members = team_members()
    current = today.replace(day=1)
    quotas = selectors.quota_totals(
        scopes=scopes,
        first=add_months(current, -results.PAST_MONTHS),
        last=add_months(current, HORIZON - 1),
        members=members,
    )
    index = [{"key": scope.key, "label": labels.get(scope, "")} for scope in scopes]
    from .engine import statistical_forecast  # numpy and statsmodels: only in the worker that computes

    currency = base_currency()
    runs: list[ForecastRun] = []
    failed = 0
    total = len(scopes)
    with single_threaded_blas():
        for number, scope in enumerate(scopes, start=1):
            scope_started = time.perf_counter()
            run = ForecastRun(scope=scope.key, months=HORIZON, job=job)
            try:
                won = collected.won.get(scope) or empty_won()
                pipeline = collected.pipeline.get(scope) or empty_pipeline(today, HORIZON)
                statistics = statistical_forecast(won.values, h=HORIZON)
                run.result = results.build(
                    scope=scope,
                    label=labels.get(scope, ""),
                    today=today,
                    currency=currency,
                    won=won,
                    pipeline=pipeline,
                    statistics=statistics,
                    quotas=quotas.get(scope, {}),
                )
                run.result["scopes"] = index
                run.status = ForecastStatus.READY
            except Exception as exc:  # one scope's failure must not lose the others
                logger.exception("Forecast of %s failed", scope.key)
                run.status = ForecastStatus.FAILED
                run.error = f"{type(exc).__name__}: {exc}"[:2000]
                run.result = {"format": results.FORMAT, "scope": scope.key, "scopes": index}
                failed += 1
            run.seconds = round(time.perf_counter() - scope_started, 4)
            runs.append(run)
            if progress is not None and (number % 5 == 0 or number == total):
                progress(
                    int(number * 95 / total),
                    _("%(done)d of %(total)d forecasts computed") % {"done": number, "total": total},
                )
    with transaction.atomic():
        ForecastRun.objects.bulk_create(runs, batch_size=200)
        removed = forecast_prune()
    seconds = round(time.perf_counter() - started, 3)
    return {"scopes": total, "failed": failed, "removed": removed, "seconds": seconds}


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Fit the models with one BLAS thread. The models are small: a second thread only adds hand-overs,
    and on a busy machine those dominate (measured: 4 to 5 times slower with two threads)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # installed with scikit-learn; without it, the library's default
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def forecast_prune(*, keep: int = KEEP_RUNS) -> int:
    """Remove all but the newest ``keep`` runs of each scope."""
    stale: list[int] = []
    seen: dict[str, int] = {}
    for pk, scope in ForecastRun.objects.order_by("scope", "-created_at", "-id").values_list("pk", "scope"):
        seen[scope] = seen.get(scope, 0) + 1
        if seen[scope] > keep:
            stale.append(pk)
    removed = 0
    for start in range(0, len(stale), 500):
        removed += ForecastRun.objects.filter(pk__in=stale[start : start + 500]).delete()[0]
    return removed


def forecast_recompute_start(*, actor: Any) -> Job:
    """Queue a recomputation now (it also runs daily). A recomputation already waiting or running is
    returned instead of starting another."""
    from .tasks import forecast_compute_task

    if not access.can(actor, MODULE, "edit"):
        raise PermissionDenied
    fresh = timezone.now() - JOB_LEASE
    running = (
        Job.objects.filter(kind=FORECAST_JOB, created_at__gte=timezone.now() - timedelta(hours=1))
        .filter(Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, heartbeat_at__gte=fresh))
        .order_by("-created_at")
        .first()
    )
    if running is not None and running.created_by_id == actor.pk:
        return running
    return job_start(kind=FORECAST_JOB, user=actor, task=forecast_compute_task)


__all__ = [
    "FORECAST_JOB",
    "KEEP_RUNS",
    "can_set_quotas",
    "forecast_compute",
    "forecast_prune",
    "forecast_recompute_start",
    "parse_month",
    "parse_quota_amount",
    "quota_create",
    "quota_delete",
    "quota_row_save",
    "quota_set",
    "quota_update",
]
