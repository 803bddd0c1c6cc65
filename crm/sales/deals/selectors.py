"""Every read of pipelines and deals, scoped through core.access."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..models import Competitor, Deal, DealStageChange, LossReason, Pipeline, Stage


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
