"""The kanban board of a pipeline: columns of cards, moved by drag and drop (SortableJS).

The board shows each stage's first cards and its totals over all its deals; a column loads more
cards as one scrolls. A move posts the card's version: if someone moved or edited the deal first,
the move is refused (409) and the board shows the deal where it now is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core import access, money
from crm.core.exceptions import ConflictError
from crm.core.views.generic import ModuleAccessMixin

from ..choices import StageKind
from ..models import Deal, Pipeline, Stage
from . import selectors, services
from .filtersets import DealFilterSet

MODULE = "sales"
PER_COLUMN = 20


def _filtered(request: HttpRequest) -> tuple[Any, DealFilterSet]:
    deals = selectors.deal_list(user=request.user)
    data = request.GET.copy()
    for name in ("pipeline", "stage", "status"):
        data.pop(name, None)  # the board is one pipeline, all its stages
    filterset = DealFilterSet(data or None, queryset=deals, request=request)
    if filterset.is_bound and filterset.is_valid():
        deals = filterset.qs
    return deals, filterset


class BoardRedirectView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        pipeline = selectors.pipeline_default()
        if pipeline is None:
            return render(
                request, "sales/deals/board_empty.html", {"can_manage": access.can(request.user, "accounts", "edit")}
            )
        return redirect("sales:board", pk=pipeline.pk)


class BoardView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        pipeline = get_object_or_404(Pipeline, pk=pk)
        deals, filterset = _filtered(request)
        columns = selectors.board_columns(deals=deals, pipeline=pipeline, per_column=PER_COLUMN)
        before = selectors.stale_before()
        for column in columns:
            for card in column.cards:
                card.is_stale = selectors.is_stale(card, before=before)  # type: ignore[attr-defined]
        query = request.GET.copy()
        context = {
            "pipeline": pipeline,
            "pipelines": list(selectors.pipeline_list()),
            "columns": columns,
            "filterset": filterset,
            "querystring": query.urlencode(),
            "base_currency": money.base_currency(),
            "can_edit": access.can(request.user, MODULE, "edit"),
            "can_create": access.can(request.user, MODULE, "create"),
            "open_total": sum((c.total for c in columns if c.stage.kind == StageKind.OPEN), start=Decimal("0")),
            "open_weighted": sum((c.weighted for c in columns if c.stage.kind == StageKind.OPEN), start=Decimal("0")),
            "unconverted": sum(c.unconverted for c in columns),
        }
        return render(request, "sales/deals/board.html", context)


class BoardColumnView(ModuleAccessMixin, View):
    """More cards of one column (htmx, as the column is scrolled)."""

    module = MODULE

    def get(self, request: HttpRequest, pk: int, stage: int) -> HttpResponse:
        pipeline = get_object_or_404(Pipeline, pk=pk)
        stage_obj = get_object_or_404(Stage, pk=stage, pipeline=pipeline)
        try:
            offset = max(0, min(int(request.GET.get("offset", "0")), 1_000_000))
        except ValueError:
            offset = 0
        deals, _filterset = _filtered(request)
        shown = selectors.board_deals(deals=deals, pipeline=pipeline)
        cards = list(selectors.column_cards(deals=shown, stage=stage_obj, offset=offset, limit=PER_COLUMN + 1))
        has_more = len(cards) > PER_COLUMN
        cards = cards[:PER_COLUMN]
        before = selectors.stale_before()
        for card in cards:
            card.is_stale = selectors.is_stale(card, before=before)  # type: ignore[attr-defined]
        query = request.GET.copy()
        query["offset"] = str(offset + PER_COLUMN)
        context = {
            "cards": cards,
            "stage": stage_obj,
            "pipeline": pipeline,
            "has_more": has_more,
            "more_url": f"{reverse('sales:board_column', args=[pipeline.pk, stage_obj.pk])}?{query.urlencode()}",
            "can_edit": access.can(request.user, MODULE, "edit"),
        }
        return render(request, "sales/deals/partials/_board_cards.html", context)


class DealMoveView(ModuleAccessMixin, View):
    """POST stage, version and (optionally) before = the card it was dropped above. Answers JSON:
    the deal's new version and the totals of the columns it left and entered; 409 with the deal's
    current stage when someone else was first; 400 with the message for a refused move."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        deal = get_object_or_404(selectors.deal_list(user=request.user, action="edit"), pk=pk)
        stage = (
            Stage.objects.filter(pk=request.POST.get("stage") or 0).first()
            if str(request.POST.get("stage", "")).isdigit()
            else None
        )
        if stage is None:
            return JsonResponse({"error": _("Choose a stage.")}, status=400)
        if stage.kind == StageKind.LOST:
            # A loss needs its reason: the board sends the person to the close page.
            return JsonResponse({"redirect": f"{reverse('sales:deal_close', args=[deal.pk])}?outcome=lost"}, status=202)
        before = None
        before_id = request.POST.get("before", "")
        if before_id.isdigit():
            before = Deal.objects.filter(pk=int(before_id), pipeline_id=deal.pipeline_id).first()
        version = request.POST.get("version", "")
        from_stage_id = deal.stage_id
        try:
            deal = services.deal_move(
                actor=request.user,
                deal=deal,
                stage=stage,
                version=int(version) if version.isdigit() else None,
                before=before,
            )
        except ConflictError:
            current = Deal.objects.filter(pk=pk).values("stage_id", "version").first()
            return JsonResponse(
                {
                    "error": _("Someone else moved or changed this deal first. The board now shows where it is."),
                    "current": current,
                },
                status=409,
            )
        except ValidationError as exc:
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)
        except PermissionDenied:
            return JsonResponse({"error": _("You may not move deals.")}, status=403)
        deals, _filterset = _filtered(request)
        totals = selectors.column_totals(
            deals=selectors.board_deals(deals=deals, pipeline=deal.pipeline).filter(
                stage_id__in={from_stage_id, stage.pk}
            )
        )
        columns = {}
        for stage_id in {from_stage_id, stage.pk}:
            count, total, weighted, _missing = totals.get(stage_id, (0, 0, 0, 0))
            base = money.base_currency()
            columns[str(stage_id)] = {
                "count": count,
                "total": money.format_money(total, base),
                "weighted": money.format_money(weighted, base),
            }
        return JsonResponse({"version": deal.version, "status": deal.status, "columns": columns})
