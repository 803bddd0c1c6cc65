"""Demo data of the forecast: a monthly quota for each demo rep over the past 12 and the next 6 months
(a little above what they usually win), then the forecast of every scope, computed and stored.
Safe to run again: quotas already there are kept, and a new run is added to each scope's history."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from ..models import Quota
from .scopes import OWNER, Scope
from .series import add_months, won_series

DEFAULT_QUOTA = Decimal("20000")
DEMO_ROLES = ("sales_rep", "sales_manager")


def _quota_for(user: Any, today: Any) -> Decimal:
    """A round amount about 10% above the rep's average month over the last year."""
    series = won_series(Scope(OWNER, user.pk), today=today)
    recent = series.amounts[-12:]
    if not recent or not any(recent):
        return DEFAULT_QUOTA
    average = sum(recent, Decimal(0)) / len(recent)
    thousands = (average * Decimal("1.1") / 1000).to_integral_value(rounding=ROUND_CEILING)
    return max(thousands * 1000, Decimal("1000"))


def build(*, stdout: Any = None) -> None:
    from .services import forecast_compute

    today = timezone.localdate()
    current = today.replace(day=1)
    months = [add_months(current, step) for step in range(-12, 6)]
    added = 0
    reps = get_user_model().objects.filter(is_active=True, role__builtin__in=DEMO_ROLES).order_by("pk")
    for rep in reps:
        have = set(Quota.objects.filter(user=rep, month__in=months).values_list("month", flat=True))
        if len(have) == len(months):
            continue
        amount = _quota_for(rep, today)
        for month in months:
            if month not in have:
                Quota.objects.create(user=rep, month=month, amount=amount)
                added += 1
    summary = forecast_compute(today=today)
    if stdout is not None:
        stdout.write(f"  {added} quotas, {summary['scopes']} forecasts in {summary['seconds']:.1f} s")
