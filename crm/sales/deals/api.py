"""The deals API: deals (with move and close actions and their stage history), pipelines, loss
reasons and competitors. Writes go through the same services as the pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.viewsets import CRMAPIMixin, ScopedModelViewSet

from ..models import Competitor, Deal, LossReason, Pipeline
from . import selectors, services
from .filtersets import DealFilterSet
from .serializers import (
    CompetitorSerializer,
    DealCloseSerializer,
    DealMoveSerializer,
    DealProductSerializer,
    DealSerializer,
    DealStageChangeSerializer,
    LossReasonSerializer,
    PipelineSerializer,
    service_data,
)


class DealViewSet(ScopedModelViewSet):
    module = "sales"
    queryset = Deal.objects.select_related("owner", "team", "company", "stage", "pipeline").prefetch_related(
        "contact_roles", "competitors"
    )
    serializer_class = DealSerializer
    filterset_class = DealFilterSet
    ordering_fields = ["id", "name", "amount", "expected_close_date", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]
    action_permissions = {
        "move": "edit",
        "close": "edit",
        "stage_changes": "view",
        "products": "view",  # adding one needs "edit": the service checks it
        "product_remove": "edit",
    }

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Deal:
        return services.deal_create(actor=actor, data=service_data(data))

    def update_service(self, *, actor: Any, instance: Deal, data: dict[str, Any], version: int) -> Deal:
        return services.deal_update(actor=actor, deal=instance, data=service_data(data), version=version)

    def delete_service(self, *, actor: Any, instance: Deal) -> None:
        services.deal_delete(actor=actor, deal=instance)

    def _editable(self, pk: Any) -> Deal:
        from django.shortcuts import get_object_or_404

        return get_object_or_404(selectors.deal_list(user=self.request.user, action="edit"), pk=pk)

    @extend_schema(request=DealMoveSerializer, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: Any = None) -> Response:
        """Move the deal to another stage of its pipeline (``version`` as read; 409 if someone was first)."""
        deal = self._editable(pk)
        payload = DealMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        deal = services.deal_move(
            actor=request.user,
            deal=deal,
            stage=payload.validated_data["stage"],
            version=payload.validated_data["version"],
            before=payload.validated_data.get("before"),
            loss_reason=payload.validated_data.get("loss_reason"),
            lost_to=payload.validated_data.get("lost_to"),
        )
        return Response(DealSerializer(deal, context=self.get_serializer_context()).data)

    @extend_schema(request=DealCloseSerializer, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: Any = None) -> Response:
        """Mark the deal won or lost (a loss needs ``loss_reason``)."""
        deal = self._editable(pk)
        payload = DealCloseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        deal = services.deal_close(
            actor=request.user,
            deal=deal,
            won=payload.validated_data["won"],
            version=payload.validated_data["version"],
            loss_reason=payload.validated_data.get("loss_reason"),
            lost_to=payload.validated_data.get("lost_to"),
        )
        return Response(DealSerializer(deal, context=self.get_serializer_context()).data)

    @extend_schema(request=DealProductSerializer, responses=DealProductSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="products")
    def products(self, request: Request, pk: Any = None) -> Response:
        """The deal's products (GET), or add one (POST): answers the deal's products."""
        if request.method == "POST":
            deal = self._editable(pk)
            payload = DealProductSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            services.deal_product_add(actor=request.user, deal=deal, data=dict(payload.validated_data))
            status = 201
        else:
            deal = self.get_object()
            status = 200
        lines = selectors.deal_product_lines(deal=deal)
        return Response(DealProductSerializer(lines, many=True).data, status=status)

    @extend_schema(responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"products/(?P<line_id>[0-9]+)")
    def product_remove(self, request: Request, pk: Any = None, line_id: Any = None) -> Response:
        """Take a product off the deal."""
        services.deal_product_remove(actor=request.user, deal=self._editable(pk), line_id=line_id)
        return Response(status=204)

    @extend_schema(responses=DealStageChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="stage-changes")
    def stage_changes(self, request: Request, pk: Any = None) -> Response:
        """Every stage change of the deal, newest first: who, when, from, to."""
        deal = self.get_object()
        rows = selectors.deal_stage_changes(deal=deal)[:500]
        return Response(DealStageChangeSerializer(rows, many=True).data)


class _SalesReference(CRMAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[misc]
    """Reference lists every user of the sales module may read."""

    module = "sales"
    pagination_class = None


class PipelineViewSet(_SalesReference):
    queryset = Pipeline.objects.prefetch_related("stages")
    serializer_class = PipelineSerializer


class LossReasonViewSet(_SalesReference):
    queryset = LossReason.objects.all()
    serializer_class = LossReasonSerializer


class CompetitorViewSet(_SalesReference):
    queryset = Competitor.objects.all()
    serializer_class = CompetitorSerializer


router = SimpleRouter()
router.register("deals", DealViewSet, basename="deal")
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("loss-reasons", LossReasonViewSet, basename="loss-reason")
router.register("competitors", CompetitorViewSet, basename="competitor")
