"""API of lead scoring: ``/api/v1/scoring-rules/`` and ``/api/v1/scoring-models/``.

Whoever may view sales reads the rules and the models; only those who may manage scoring (sales
managers and administrators) add, change or delete rules and start a training, through the same
services as the settings page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import JobSerializer, StrictFieldsMixin
from crm.core.api.viewsets import ScopedViewSetMixin

from ..choices import ScoringKind, ScoringOperator
from ..models import ScoringModel, ScoringRule
from . import selectors, services
from .rules import FACTS


class ScoringPermission(permissions.BasePermission):
    """Reading: view in Sales. Writing: managing lead scoring, never with a read-only token."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return services.can_view(user)
        if getattr(getattr(request, "auth", None), "read_only", False):
            return False
        return services.can_manage(user)


class ScoringRuleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A scoring rule: a lead whose ``field`` satisfies ``operator`` ``value`` gets ``points``.

    ``field`` is one of the facts a rule can test (lead fields, ``activities``: the number of activities
    logged about the lead, ``web_form``: whether it came from a web form); ``value`` is text: a number
    for ``at_least``, a comma-separated list for ``in``, ``yes``/``no`` for ``marketing_consent`` and
    ``web_form``, empty for ``not_empty``. ``kind`` defaults from the field.
    """

    field = serializers.ChoiceField(choices=sorted(FACTS))
    operator = serializers.ChoiceField(choices=ScoringOperator.choices)
    kind = serializers.ChoiceField(choices=ScoringKind.choices, required=False)
    value = serializers.CharField(max_length=200, required=False, allow_blank=True)
    points = serializers.IntegerField(min_value=-100, max_value=100)

    class Meta:
        model = ScoringRule
        fields = [
            "id",
            "name",
            "kind",
            "field",
            "operator",
            "value",
            "points",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class ScoringModelSerializer(serializers.ModelSerializer):
    """A training of the predictive model: its quality on held-out leads and, when it is not used, why.

    ``parameters`` holds the features, the scaling, the coefficients and the intercept of a logistic
    regression: ``p = 1 / (1 + exp(-(intercept + sum(coef * (x - mean) / scale))))``.
    """

    class Meta:
        model = ScoringModel
        fields = [
            "id",
            "is_active",
            "trained_on",
            "tested_on",
            "roc_auc",
            "conversion_rate",
            "message",
            "parameters",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="Every scoring rule (inactive ones too), fit rules first."),
    create=extend_schema(description="Add a rule (sales managers); every lead is scored again in the background."),
    partial_update=extend_schema(description="Change a rule; send its `version` (or `If-Match`)."),
    destroy=extend_schema(description="Delete a rule; every lead is scored again in the background."),
)
class ScoringRuleViewSet(  # type: ignore[misc]
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The manager's lead scoring rules."""

    module = services.MODULE
    serializer_class = ScoringRuleSerializer
    permission_classes = [ScoringPermission]
    pagination_class = None  # a handful of rules
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> QuerySet[ScoringRule]:
        return ScoringRule.objects.order_by("kind", "name", "id")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.scoring_rule_create(actor=self.request.user, data=data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.scoring_rule_update(
            actor=self.request.user,
            rule=serializer.instance,
            data=dict(serializer.validated_data),
            version=self.expected_version(),
        )

    def perform_destroy(self, instance: ScoringRule) -> None:
        services.scoring_rule_delete(actor=self.request.user, rule=instance)


@extend_schema_view(
    list=extend_schema(description="Every training of the lead scoring model, newest first."),
)
class ScoringModelViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[misc]
    """Trainings of the predictive model; ``latest`` is the one in use (or the newest attempt)."""

    module = services.MODULE
    serializer_class = ScoringModelSerializer
    permission_classes = [ScoringPermission]
    filter_backends: list[Any] = []

    def base_queryset(self) -> QuerySet[ScoringModel]:
        return ScoringModel.objects.all()

    @extend_schema(
        description="The model in use; without one, the newest training (whose `message` says why it is "
        "not used). 404 before the first training."
    )
    @action(detail=False, methods=["get"])
    def latest(self, request: Request) -> Response:
        found = selectors.model_active() or selectors.model_latest()
        if found is None:
            raise Http404
        return Response(self.get_serializer(found).data)

    @extend_schema(
        request=None,
        responses={202: JobSerializer},
        description="Train now (sales managers): a background job trains a model when there is enough "
        "history, then scores every lead again. Follow it at `/api/v1/jobs/{id}/`.",
    )
    @action(detail=False, methods=["post"])
    def train(self, request: Request) -> Response:
        job = services.scoring_model_train_start(actor=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("scoring-rules", ScoringRuleViewSet, basename="scoring-rule")
router.register("scoring-models", ScoringModelViewSet, basename="scoring-model")
