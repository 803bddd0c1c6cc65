"""The numbers a forecast stands on, in the company's currency (``settings.CRM_CURRENCY``).

- **Won series**: the amount of deals won per calendar month (``Deal.status`` won, by ``closed_on``),
  each converted with the exchange rate of its closing day (``RateBook``). The series runs from the
  scope's first month with a win to the last complete month; months without a win are 0; the current
  month, still running, is kept apart (won so far). A deal in a currency without any rate cannot be
  converted: it is left out and counted, so the page can say so.
- **Weighted pipeline**: open deals, amount × probability / 100, by expected close month, converted at
  today's rate. A close date already past counts in the current month; deals without a date and
  deals expected after the last month shown are counted apart.

Both are read with aggregate queries grouped by day (the rate applies per day) and currency. For a
single scope (``won_series``, ``weighted_pipeline``) the query filters that scope; for the job,
``collect`` reads every scope at once with one query per kind of figure, grouped by owner, team and
pipeline as well, and splits the rows in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.core.money import quantize

from ..choices import DealStatus
from ..currency import RateBook
from ..models import Deal
from .scopes import ALL, OWNER, PIPELINE, TEAM, Scope

HORIZON = 12  # months ahead, the current month first
ZERO = Decimal("0")


# --- months ---------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last``, both included (empty when ``last`` is earlier)."""
    months = []
    month = month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def forecast_months(today: date, horizon: int = HORIZON) -> list[date]:
    """The months a forecast covers: the current one, then the next ``horizon - 1``."""
    current = month_start(today)
    return [add_months(current, step) for step in range(horizon)]


# --- results --------------------------------------------------------------------------------------------


@dataclass
class Skipped:
    """Deals left out because their currency has no exchange rate."""

    deals: int = 0
    currencies: set[str] = field(default_factory=set)

    def add(self, deals: int, currency: str) -> None:
        self.deals += deals
        self.currencies.add(currency)


@dataclass
class WonSeries:
    months: list[date]  # complete months, from the first with a win to the last complete one
    amounts: list[Decimal]
    current: Decimal  # won so far in the current month
    skipped: Skipped

    @property
    def values(self) -> list[float]:
        return [float(amount) for amount in self.amounts]

    @property
    def nonzero_months(self) -> int:
        return sum(1 for amount in self.amounts if amount)

    def amount_of(self, month: date) -> Decimal | None:
        """The amount won in ``month`` (a complete month of the series, or the current one)."""
        if self.months and month == add_months(self.months[-1], 1):
            return self.current
        try:
            return self.amounts[self.months.index(month)]
        except ValueError:
            return None


@dataclass
class WeightedPipeline:
    months: list[date]
    amounts: list[Decimal]
    deals: list[int]
    undated: Decimal = ZERO  # open deals without an expected close date
    undated_deals: int = 0
    later: Decimal = ZERO  # expected after the last month shown
    later_deals: int = 0
    skipped: Skipped = field(default_factory=Skipped)


class _WonTotals:
    """Sums of won amounts by day-converted month for one scope."""

    def __init__(self) -> None:
        self.by_month: dict[date, Decimal] = defaultdict(Decimal)
        self.skipped = Skipped()

    def add(self, month: date, amount: Decimal | None, deals: int, currency: str) -> None:
        if amount is None:
            self.skipped.add(deals, currency)
        else:
            self.by_month[month] += amount

    def series(self, today: date) -> WonSeries:
        current = month_start(today)
        past = [month for month in self.by_month if month < current]
        months = month_range(min(past), add_months(current, -1)) if past else []
        return WonSeries(
            months=months,
            amounts=[self.by_month.get(month, ZERO) for month in months],
            current=self.by_month.get(current, ZERO),
            skipped=self.skipped,
        )


class _PipelineTotals:
    def __init__(self, months: list[date]) -> None:
        self.months = months
        self.amounts: dict[date, Decimal] = defaultdict(Decimal)
        self.deals: dict[date, int] = defaultdict(int)
        self.result = WeightedPipeline(months=months, amounts=[], deals=[])

    def add(self, month: date | None, weighted: Decimal | None, deals: int, currency: str) -> None:
        result = self.result
        if weighted is None:
            result.skipped.add(deals, currency)
        elif month is None:
            result.undated += weighted
            result.undated_deals += deals
        elif month > self.months[-1]:
            result.later += weighted
            result.later_deals += deals
        else:
            month = max(month, self.months[0])  # a date already past: still expected, now
            self.amounts[month] += weighted
            self.deals[month] += deals

    def pipeline(self, base: str) -> WeightedPipeline:
        result = self.result
        result.amounts = [quantize(self.amounts.get(month, ZERO), base) for month in self.months]
        result.deals = [self.deals.get(month, 0) for month in self.months]
        result.undated = quantize(result.undated, base)
        result.later = quantize(result.later, base)
        return result


# --- queries --------------------------------------------------------------------------------------------


def _won_deals(today: date) -> QuerySet[Deal]:
    return Deal.objects.filter(status=DealStatus.WON, closed_on__isnull=False, closed_on__lte=today)


def _open_deals() -> QuerySet[Deal]:
    return Deal.objects.filter(status=DealStatus.OPEN)


def team_members() -> dict[int, set[int]]:
    """team id -> ids of its members (one query)."""
    from crm.accounts.models import Team

    members: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id in Team.members.through.objects.values_list("team_id", "user_id"):
        members[team_id].add(user_id)
    return members


def scope_filter(scope: Scope) -> Q:
    """The deals of ``scope``. A team's deals are those of its team and those its members own."""
    if scope.kind == ALL:
        return Q()
    if scope.kind == OWNER:
        return Q(owner_id=scope.id)
    if scope.kind == PIPELINE:
        return Q(pipeline_id=scope.id)
    members = team_members().get(scope.id or 0, set())
    return Q(team_id=scope.id) | Q(owner_id__in=sorted(members))


def _convert_won(totals: _WonTotals, rates: RateBook, closed_on: Any, currency: str, amount: Any, deals: int) -> None:
    totals.add(month_start(closed_on), rates.to_base(Decimal(amount), currency, closed_on), deals, currency)


def _weighted(rates: RateBook, today: date, currency: str, amount: Any, probability: int) -> Decimal | None:
    rate = rates.rate(currency, today)
    if rate is None:
        return None
    return Decimal(amount) * Decimal(probability) / Decimal(100) * rate


def won_series(scope: Scope, *, today: date | None = None, rates: RateBook | None = None) -> WonSeries:
    """The monthly won amounts of one scope (one aggregate query)."""
    today = today or timezone.localdate()
    rates = rates or RateBook()
    rows = (
        _won_deals(today)
        .filter(scope_filter(scope))
        .values("closed_on", "currency")
        .annotate(total=Sum("amount"), deals=Count("id"))
        .order_by()
    )
    totals = _WonTotals()
    for row in rows:
        _convert_won(totals, rates, row["closed_on"], row["currency"], row["total"], row["deals"])
    return totals.series(today)


def weighted_pipeline(
    scope: Scope, *, today: date | None = None, rates: RateBook | None = None, horizon: int = HORIZON
) -> WeightedPipeline:
    """The weighted open pipeline of one scope by expected close month (one aggregate query)."""
    today = today or timezone.localdate()
    rates = rates or RateBook()
    rows = (
        _open_deals()
        .filter(scope_filter(scope))
        .annotate(month=TruncMonth("expected_close_date"))
        .values("month", "currency", "probability")
        .annotate(total=Sum("amount"), deals=Count("id"))
        .order_by()
    )
    totals = _PipelineTotals(forecast_months(today, horizon))
    for row in rows:
        weighted = _weighted(rates, today, row["currency"], row["total"], row["probability"])
        totals.add(row["month"], weighted, row["deals"], row["currency"])
    return totals.pipeline(rates.base)


# --- every scope at once (the job) ---------------------------------------------------------------------


@dataclass
class Collected:
    won: dict[Scope, WonSeries]
    pipeline: dict[Scope, WeightedPipeline]

    @property
    def scopes(self) -> list[Scope]:
        return sorted(set(self.won) | set(self.pipeline))


def _scopes_of(
    owner_id: int | None, team_id: int | None, pipeline_id: int | None, teams_of: dict[int, set[int]]
) -> Iterable[Scope]:
    yield Scope(ALL)
    if owner_id is not None:
        yield Scope(OWNER, owner_id)
    if pipeline_id is not None:
        yield Scope(PIPELINE, pipeline_id)
    teams = set(teams_of.get(owner_id, ())) if owner_id is not None else set()
    if team_id is not None:
        teams.add(team_id)
    for team in teams:
        yield Scope(TEAM, team)


def collect(*, today: date | None = None, rates: RateBook | None = None, horizon: int = HORIZON) -> Collected:
    """Won series and weighted pipelines of every scope that has deals: everyone, each owner, each team,
    each pipeline. Three queries in all (won deals, open deals, team members), whatever the number of
    owners."""
    today = today or timezone.localdate()
    rates = rates or RateBook()
    teams_of: dict[int, set[int]] = defaultdict(set)
    for team_id, members in team_members().items():
        for member in members:
            teams_of[member].add(team_id)

    won: dict[Scope, _WonTotals] = defaultdict(_WonTotals)
    won_rows = (
        _won_deals(today)
        .values_list("owner_id", "team_id", "pipeline_id", "closed_on", "currency")
        .annotate(total=Sum("amount"), deals=Count("id"))
        .order_by()
    )
    for owner_id, team_id, pipeline_id, closed_on, currency, total, deals in won_rows:
        converted = rates.to_base(Decimal(total), currency, closed_on)
        month = month_start(closed_on)
        for scope in _scopes_of(owner_id, team_id, pipeline_id, teams_of):
            won[scope].add(month, converted, deals, currency)

    months = forecast_months(today, horizon)
    pipeline: dict[Scope, _PipelineTotals] = {}
    open_rows = (
        _open_deals()
        .annotate(month=TruncMonth("expected_close_date"))
        .values_list("owner_id", "team_id", "pipeline_id", "month", "currency", "probability")
        .annotate(total=Sum("amount"), deals=Count("id"))
        .order_by()
    )
    for owner_id, team_id, pipeline_id, month, currency, probability, total, deals in open_rows:
        weighted = _weighted(rates, today, currency, total, probability)
        for scope in _scopes_of(owner_id, team_id, pipeline_id, teams_of):
            if scope not in pipeline:
                pipeline[scope] = _PipelineTotals(months)
            pipeline[scope].add(month, weighted, deals, currency)

    return Collected(
        won={scope: totals.series(today) for scope, totals in won.items()},
        pipeline={scope: totals.pipeline(rates.base) for scope, totals in pipeline.items()},
    )


def empty_pipeline(today: date, horizon: int = HORIZON) -> WeightedPipeline:
    months = forecast_months(today, horizon)
    return WeightedPipeline(months=months, amounts=[ZERO] * len(months), deals=[0] * len(months))


def empty_won() -> WonSeries:
    return WonSeries(months=[], amounts=[], current=ZERO, skipped=Skipped())
