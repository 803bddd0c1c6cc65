"""Reads for the win/loss report and the sales dashboard, over the deals the user may see.

Amounts are converted into the company's currency with today's exchange rates (``RateBook``);
deals in a currency without a rate are counted but left out of the sums, and the pages say how many.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core import access

from ..choices import DealStatus, LeadSource, LeadStatus
from ..currency import RateBook
from ..models import Deal
from . import selectors

DIMENSIONS = {
    "reason": (_("Loss reason"), "loss_reason__name"),
    "competitor": (_("Competitor"), "lost_to__name"),
    "owner": (_("Owner"), "owner_id"),
    "source": (_("Source"), "source"),
    "month": (_("Month"), "month"),
    "quarter": (_("Quarter"), "quarter"),
}


@dataclass
class WinLossRow:
    key: Any
    label: str
    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal("0")
    lost_amount: Decimal = Decimal("0")

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed * 100 if self.closed else None


@dataclass
class WinLoss:
    rows: list[WinLossRow] = field(default_factory=list)
    total: WinLossRow = field(default_factory=lambda: WinLossRow(None, ""))
    unconverted: int = 0


def _labels(dimension: str, keys: set[Any]) -> dict[Any, str]:
    if dimension == "owner":
        from django.contrib.auth import get_user_model

        return {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=[k for k in keys if k])}
    if dimension == "source":
        return {value: str(label) for value, label in LeadSource.choices}
    if dimension == "month":
        return {k: k.strftime("%Y-%m") for k in keys if k}
    if dimension == "quarter":
        return {k: f"{k.year} Q{(k.month - 1) // 3 + 1}" for k in keys if k}
    return {k: k for k in keys if k}


def win_loss(*, user: Any, dimension: str, date_from: date, date_to: date) -> WinLoss:
    """Closed deals (closed between the dates) grouped by ``dimension``: won, lost, amounts, win rate."""
    if dimension not in DIMENSIONS:
        dimension = "reason"
    column = DIMENSIONS[dimension][1]
    deals = selectors.deal_list(user=user).filter(
        status__in=(DealStatus.WON, DealStatus.LOST), closed_on__gte=date_from, closed_on__lte=date_to
    )
    if dimension == "month":
        deals = deals.annotate(month=TruncMonth("closed_on"))
    elif dimension == "quarter":
        deals = deals.annotate(quarter=TruncQuarter("closed_on"))
    grouped = deals.order_by().values(column, "status", "currency").annotate(n=Count("id"), amount=Sum("amount"))
    rates = RateBook()
    rows: dict[Any, WinLossRow] = {}
    result = WinLoss()
    for item in grouped:
        key = item[column]
        if hasattr(key, "date") and not isinstance(key, date):
            key = key.date()
        row = rows.setdefault(key, WinLossRow(key, ""))
        converted = rates.to_base(Decimal(item["amount"] or 0), item["currency"])
        if converted is None:
            result.unconverted += item["n"]
            converted = Decimal("0")
        for target in (row, result.total):
            if item["status"] == DealStatus.WON:
                target.won += item["n"]
                target.won_amount += converted
            else:
                target.lost += item["n"]
                target.lost_amount += converted
    labels = _labels(dimension, set(rows))
    none_label = str(_("Not given"))
    for key, row in rows.items():
        row.label = labels.get(key, none_label) if key not in (None, "") else none_label
    if dimension in {"month", "quarter"}:
        result.rows = sorted(rows.values(), key=lambda r: (r.key is None, r.key or date.min))
    else:
        result.rows = sorted(rows.values(), key=lambda r: (-r.closed, r.label))
    return result


# --- the sales dashboard ---------------------------------------------------------------------------------


def dashboard(*, user: Any, today: date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    since = today - timedelta(days=90)
    rates = RateBook()
    deals = selectors.deal_list(user=user).select_related(None)

    def money_of(rows: QuerySet[Deal]) -> tuple[Decimal, int]:
        return selectors.amount_in_base(deals=rows, rates=rates)

    won_month, missing_month = money_of(
        deals.filter(status=DealStatus.WON, closed_on__gte=month_start, closed_on__lt=next_month)
    )
    recent = deals.filter(closed_on__gte=since)
    won_recent = recent.filter(status=DealStatus.WON)
    won_count = won_recent.count()
    lost_count = recent.filter(status=DealStatus.LOST).count()
    won_recent_total, _missing = money_of(won_recent)
    cycles = [
        (closed - created.date()).days
        for closed, created in won_recent.values_list("closed_on", "created_at")[:10_000]
        if closed and created
    ]

    pipeline = selectors.pipeline_default()
    stages: list[dict[str, Any]] = []
    if pipeline is not None:
        for column in selectors.board_columns(deals=deals, pipeline=pipeline, per_column=0):
            if column.stage.kind == "open":
                stages.append(
                    {"stage": column.stage, "count": column.count, "total": column.total, "weighted": column.weighted}
                )

    closing = list(
        deals.filter(status=DealStatus.OPEN, expected_close_date__gte=month_start, expected_close_date__lt=next_month)
        .select_related("owner", "company", "stage")
        .order_by("expected_close_date", "id")[:10]
    )
    closing_count = deals.filter(
        status=DealStatus.OPEN, expected_close_date__gte=month_start, expected_close_date__lt=next_month
    ).count()
    return {
        "today": today,
        "month_start": month_start,
        "won_month": won_month,
        "quota_month": _quota(user=user, month=month_start),
        "win_rate": won_count / (won_count + lost_count) * 100 if won_count + lost_count else None,
        "won_count": won_count,
        "lost_count": lost_count,
        "average_deal": (won_recent_total / won_count) if won_count else None,
        "average_cycle_days": sum(cycles) / len(cycles) if cycles else None,
        "pipeline": pipeline,
        "stages": stages,
        "closing": closing,
        "closing_count": closing_count,
        "activities": _activities_per_rep(user=user, since=today - timedelta(days=30)),
        "funnel": _lead_funnel(user=user, since=today - timedelta(days=365)),
        "unconverted": missing_month,
    }


def _quota(*, user: Any, month: date) -> Decimal | None:
    """The quota of the month for what the user sees: their own when their scope is their records,
    otherwise the sum of every rep's quota (or of the teams' when reps have none)."""
    from ..models import Quota

    rows = Quota.objects.filter(month=month)
    if user.get_data_scope() == "own":
        rows = rows.filter(user=user)
    elif user.get_data_scope() == "team":
        rows = rows.filter(Q(user_id__in=user.team_member_ids()) | Q(user=user))
    else:
        by_user = rows.filter(user__isnull=False).aggregate(total=Sum("amount"))["total"]
        return (
            by_user if by_user is not None else rows.filter(team__isnull=False).aggregate(total=Sum("amount"))["total"]
        )
    return rows.aggregate(total=Sum("amount"))["total"]


def _activities_per_rep(*, user: Any, since: date) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model

    from crm.customers.activities import selectors as activity_selectors

    if not access.can(user, "customers", "view"):
        return []
    rows = (
        activity_selectors.activity_list(user=user)
        .select_related(None)
        .filter(occurred_at__date__gte=since)
        .order_by()
        .values("owner_id", "kind")
        .annotate(n=Count("id"))
    )
    per: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        per[row["owner_id"]][row["kind"]] += row["n"]
    people = {u.pk: u for u in get_user_model().objects.filter(pk__in=[k for k in per if k])}
    result = [
        {"user": people.get(owner), "kinds": dict(kinds), "total": sum(kinds.values())}
        for owner, kinds in per.items()
        if owner in people
    ]
    return sorted(result, key=lambda r: -r["total"])[:10]


def _lead_funnel(*, user: Any, since: date) -> list[dict[str, Any]]:
    """Leads created since ``since`` by source: how many, how many reached contact, qualification and
    conversion (a converted lead was contacted and qualified too)."""
    from ..models import Lead

    if not access.can(user, "sales", "view"):
        return []
    rows = (
        Lead.objects.visible_to(user)
        .filter(created_at__date__gte=since)
        .order_by()
        .values("source", "status")
        .annotate(n=Count("id"))
    )
    steps = {
        LeadStatus.NEW: 0,
        LeadStatus.UNQUALIFIED: 1,
        LeadStatus.CONTACTED: 1,
        LeadStatus.QUALIFIED: 2,
        LeadStatus.CONVERTED: 3,
    }
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        reached = steps.get(row["status"], 0)
        for step in range(reached + 1):
            per[row["source"]][step] += row["n"]
    labels = dict(LeadSource.choices)
    funnel = [
        {
            "source": labels.get(source, source),
            "total": counts[0],
            "contacted": counts[1],
            "qualified": counts[2],
            "converted": counts[3],
            "rate": counts[3] / counts[0] * 100 if counts[0] else None,
        }
        for source, counts in per.items()
    ]
    return sorted(funnel, key=lambda r: -r["total"])
