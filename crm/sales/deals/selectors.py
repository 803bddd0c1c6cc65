"""Every read of pipelines and deals, scoped through core.access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from ..choices import DealStatus
from ..currency import RateBook
from ..models import Competitor, Deal, DealStageChange, LossReason, Pipeline, Product, Stage


def pipeline_list(*, active_only: bool = True) -> QuerySet[Pipeline]:
    rows = Pipeline.objects.all()
    return rows.filter(is_active=True) if active_only else rows


def pipeline_default() -> Pipeline | None:
    return pipeline_list().filter(is_default=True).first() or pipeline_list().first()


def pipeline_get(*, pk: Any) -> Pipeline | None:
    return Pipeline.objects.filter(pk=pk).first()


def stage_list(*, pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order", "id"))


def deal_list(*, user: Any, action: str = "view") -> QuerySet[Deal]:
    return Deal.objects.visible_to(user, action=action).select_related("owner", "company", "stage", "pipeline")


def deal_get(*, user: Any, pk: Any, action: str = "view") -> Deal | None:
    return deal_list(user=user, action=action).filter(pk=pk).first()


def deal_stage_changes(*, deal: Deal) -> QuerySet[DealStageChange]:
    return deal.stage_changes.select_related("from_stage", "to_stage", "changed_by").order_by("-changed_at", "-id")


def loss_reason_list() -> QuerySet[LossReason]:
    return LossReason.objects.filter(is_active=True)


def competitor_list() -> QuerySet[Competitor]:
    return Competitor.objects.all()


# --- the board -------------------------------------------------------------------------------------------


@dataclass
class BoardColumn:
    stage: Stage
    cards: list[Deal]
    count: int = 0
    total: Decimal = Decimal("0")
    weighted: Decimal = Decimal("0")
    unconverted: int = 0  # deals in a currency without an exchange rate, left out of the totals

    @property
    def has_more(self) -> bool:
        return len(self.cards) < self.count


CLOSED_DAYS_ON_BOARD = 30


def board_deals(*, deals: QuerySet[Deal], pipeline: Pipeline) -> QuerySet[Deal]:
    """The deals a board shows: open ones, and those closed in the last 30 days (won and lost columns)."""
    since = timezone.localdate() - timedelta(days=CLOSED_DAYS_ON_BOARD)
    return deals.filter(pipeline=pipeline).filter(Q(status=DealStatus.OPEN) | Q(closed_on__gte=since))


def column_totals(*, deals: QuerySet[Deal]) -> dict[int, tuple[int, Decimal, Decimal, int]]:
    """Per stage: number of deals, total and weighted total in the company's currency, and how many
    deals had no exchange rate. One grouped query over all the deals, however many there are."""
    rates = RateBook()
    weighted_expr = ExpressionWrapper(
        F("amount") * F("probability"), output_field=DecimalField(max_digits=20, decimal_places=2)
    )
    rows = (
        deals.order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(weighted_expr))
    )
    totals: dict[int, tuple[int, Decimal, Decimal, int]] = {}
    for row in rows:
        count, total, weighted, missing = totals.get(row["stage_id"], (0, Decimal(0), Decimal(0), 0))
        amount = rates.to_base(Decimal(row["total"] or 0), row["currency"])
        weight = rates.to_base(Decimal(row["weighted"] or 0) / 100, row["currency"])
        if amount is None or weight is None:
            missing += row["n"]
        else:
            total += amount
            weighted += weight
        totals[row["stage_id"]] = (count + row["n"], total, weighted, missing)
    return totals


def amount_in_base(*, deals: QuerySet[Deal], rates: RateBook | None = None) -> tuple[Decimal, int]:
    """The deals' total amount in the company's currency (one query grouped by currency), and how
    many deals were left out because their currency has no exchange rate."""
    rates = rates or RateBook()
    total, missing = Decimal("0"), 0
    for row in deals.order_by().values("currency").annotate(n=Count("id"), amount=Sum("amount")):
        converted = rates.to_base(Decimal(row["amount"] or 0), row["currency"])
        if converted is None:
            missing += row["n"]
        else:
            total += converted
    return total, missing


def board_columns(*, deals: QuerySet[Deal], pipeline: Pipeline, per_column: int = 20) -> list[BoardColumn]:
    """The board of ``pipeline``: each stage's first cards (by position) and its totals over all."""
    shown = board_deals(deals=deals, pipeline=pipeline)
    totals = column_totals(deals=shown)
    columns = []
    for stage in stage_list(pipeline=pipeline):
        count, total, weighted, missing = totals.get(stage.pk, (0, Decimal(0), Decimal(0), 0))
        cards = list(column_cards(deals=shown, stage=stage, offset=0, limit=per_column)) if count else []
        columns.append(BoardColumn(stage, cards, count, total, weighted, missing))
    return columns


def column_cards(*, deals: QuerySet[Deal], stage: Stage, offset: int, limit: int) -> QuerySet[Deal]:
    return (
        deals.filter(stage=stage)
        .select_related("owner", "company")
        .only(
            "id",
            "name",
            "amount",
            "currency",
            "probability",
            "expected_close_date",
            "version",
            "stage_id",
            "pipeline_id",
            "status",
            "rank",
            "last_activity_at",
            "stage_entered_at",
            "created_at",
            "owner__id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "company__id",
            "company__name",
        )
        .order_by("rank", "id")[offset : offset + limit]
    )


def stale_before(*, now: datetime | None = None) -> datetime:
    """Open deals with no activity since this moment are stale (Sales settings)."""
    from ..models import SalesSettings

    days = SalesSettings.load().stale_deal_days
    return (now or timezone.now()) - timedelta(days=days)


def is_stale(deal: Deal, *, before: datetime) -> bool:
    if deal.status != DealStatus.OPEN:
        return False
    last = deal.last_activity_at or deal.stage_entered_at or deal.created_at
    return last is not None and last < before


def product_for_deal(*, pk: Any) -> Product | None:
    """An active product by id (products are the same for everyone who sees sales)."""
    if not str(pk).isdigit():
        return None
    return Product.objects.filter(pk=int(pk), is_active=True).first()


def product_choices() -> list[Product]:
    return list(Product.objects.filter(is_active=True).order_by("name", "id").only("id", "name", "code")[:500])


def deal_product_lines(*, deal: Deal) -> list[Any]:
    return list(deal.product_lines.select_related("product").order_by("id"))
