"""API of the forecast and of quotas.

- ``/api/v1/forecasts/``: the newest stored forecast of every scope the caller may see (read-only;
  ``recompute/`` starts a recomputation as a job). Nothing is computed on the request.
- ``/api/v1/quotas/``: what each person or team should win per month, in the company's currency;
  written through the same services as the quota page (managers only).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.accounts.models import Team
from crm.core.api.serializers import JobSerializer, StrictFieldsMixin
from crm.core.api.viewsets import ScopedModelViewSet, ScopedReadOnlyViewSet

from ..models import ForecastRun, Quota
from . import selectors, services
from .scopes import MODULE, Scope

# --- forecasts --------------------------------------------------------------------------------------------


class ForecastRunSerializer(serializers.ModelSerializer):
    """One stored forecast. ``result`` holds, in the company's currency: ``history`` (won per complete
    month), ``months`` (the forecast months, the current one first), ``statistics`` (``status`` "ok" or
    "insufficient"; per method its ``forecast``, ``lower80``/``upper80``, ``lower95``/``upper95`` and
    ``backtest`` MAE and MAPE; the ``recommended`` method), ``pipeline`` (the weighted pipeline per
    month), ``quotas`` (per month) and ``current`` (won so far this month)."""

    kind = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()

    class Meta:
        model = ForecastRun
        fields = ["id", "scope", "kind", "label", "status", "months", "created_at", "seconds", "error", "result"]
        read_only_fields = fields

    def to_representation(self, instance: ForecastRun) -> dict[str, Any]:
        data = super().to_representation(instance)
        if isinstance(data.get("result"), dict):
            # The index of every computed scope is the page's scope chooser: not for every caller.
            data["result"] = {key: value for key, value in data["result"].items() if key != "scopes"}
        return data

    def get_kind(self, run: ForecastRun) -> str:
        scope = Scope.parse(run.scope)
        return scope.kind if scope is not None else ""

    def get_label(self, run: ForecastRun) -> str:
        return str((run.result or {}).get("label") or "")


class ForecastRunFilterSet(django_filters.FilterSet):
    scope = django_filters.CharFilter(help_text="A scope key: all, owner:<id>, team:<id> or pipeline:<id>.")
    kind = django_filters.ChoiceFilter(
        method="filter_kind",
        choices=[("all", "all"), ("owner", "owner"), ("team", "team"), ("pipeline", "pipeline")],
    )

    class Meta:
        model = ForecastRun
        fields = ["scope", "kind"]

    def filter_kind(self, queryset: QuerySet[ForecastRun], name: str, value: str) -> QuerySet[ForecastRun]:
        return queryset.filter(scope=value) if value == "all" else queryset.filter(scope__startswith=f"{value}:")


@extend_schema_view(
    list=extend_schema(description="The newest stored forecast of each scope the caller may see."),
    retrieve=extend_schema(description="One stored forecast run the caller may see."),
)
class ForecastRunViewSet(ScopedReadOnlyViewSet):
    """Forecasts of everyone, each owner, team and pipeline, as the daily job (or Recompute) stored them."""

    module = MODULE
    serializer_class = ForecastRunSerializer
    filterset_class = ForecastRunFilterSet
    ordering_fields: list[str] = []
    action_permissions = {"recompute": "edit"}

    def base_queryset(self) -> QuerySet[ForecastRun]:
        user = self.request.user
        if self.action == "list":
            return selectors.forecast_latest_list(user=user)
        return selectors.forecast_run_list(user=user)

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=False, methods=["post"])
    def recompute(self, request: Request) -> Response:
        """Recompute every forecast now (a background job; it also runs daily)."""
        job = services.forecast_recompute_start(actor=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


# --- quotas -----------------------------------------------------------------------------------------------


class QuotaSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A quota: a person (``user``) or a team (``team``), never both; ``month`` is the first day of the
    month; ``amount`` in the company's currency. An update changes the amount only."""

    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    month = serializers.DateField()
    amount = serializers.CharField(max_length=40, help_text='A decimal amount, e.g. "12500.00".')

    class Meta:
        model = Quota
        fields = ["id", "user", "team", "month", "amount", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "version", "created_at", "updated_at"]

    def get_validators(self) -> list[Any]:
        return []  # the service checks uniqueness, with a clearer message

    def to_representation(self, instance: Quota) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["amount"] = f"{instance.amount:.2f}"
        return data


class QuotaFilterSet(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    team = django_filters.NumberFilter(field_name="team_id")
    month_from = django_filters.DateFilter(field_name="month", lookup_expr="gte")
    month_to = django_filters.DateFilter(field_name="month", lookup_expr="lte")

    class Meta:
        model = Quota
        fields = ["user", "team", "month_from", "month_to"]


@extend_schema_view(
    list=extend_schema(description="The quotas the caller may see (their own; their teams' and teammates'; or all)."),
    create=extend_schema(description="Set a quota (sales managers). One per person or team and month."),
    partial_update=extend_schema(description="Change a quota's amount; send its `version` (or `If-Match`)."),
)
class QuotaViewSet(ScopedModelViewSet):
    module = MODULE
    serializer_class = QuotaSerializer
    filterset_class = QuotaFilterSet
    ordering_fields = ["month", "id"]
    ordering = ["-month", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> QuerySet[Quota]:
        action = {"PATCH": "edit", "DELETE": "edit"}.get(self.request.method or "", "view")
        return selectors.quota_list(user=self.request.user, action=action)

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Quota:
        return services.quota_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Quota, data: dict[str, Any], version: int) -> Quota:
        return services.quota_update(actor=actor, quota=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Quota) -> None:
        services.quota_delete(actor=actor, quota=instance)


router = SimpleRouter()
router.register("forecasts", ForecastRunViewSet, basename="forecast")
router.register("quotas", QuotaViewSet, basename="quota")
