"""API of leads (``/api/v1/leads/``, with ``/convert/``) and of the assignment rules
(``/api/v1/assignment-rules/``, administrators). Writes go through the same services as the pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import SensitiveFieldsMixin, StrictFieldsMixin
from crm.core.api.viewsets import CRMAPIMixin, ScopedModelViewSet, ScopedViewSetMixin
from crm.customers import selectors as customer_selectors
from crm.customers.models import Company, Contact

from ..models import AssignmentRule, Lead, Pipeline
from . import selectors, services, settings_services
from .filtersets import LeadFilterSet

READ_ONLY = [
    "id",
    "score",
    "rule_score",
    "model_score",
    "score_reasons",
    "assigned_at",
    "touched_at",
    "converted_at",
    "converted_by",
    "contact",
    "company",
    "deal",
    "web_form",
    "version",
    "created_at",
    "updated_at",
]


class LeadSerializer(StrictFieldsMixin, SensitiveFieldsMixin, serializers.ModelSerializer):
    """A lead. Without an ``owner`` the assignment rules choose one. ``name`` is made from first and
    last name when left out; ``phone`` takes any format and comes back in E.164; ``website`` may leave
    out ``https://``; ``country`` is a two-letter code. ``status`` cannot be set to ``converted``:
    convert the lead (``POST /api/v1/leads/{id}/convert/``)."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Any format; stored in E.164."
    )
    website = serializers.CharField(max_length=300, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    sensitive_fields = ("phone",)

    class Meta:
        model = Lead
        fields = ["id", *services.LEAD_FIELDS, *READ_ONLY[1:]]
        read_only_fields = READ_ONLY


class ConvertSerializer(serializers.Serializer):
    """What a conversion reuses and creates. Leave ``contact`` and ``company`` out to reuse the
    matches the caller can see (a contact with the lead's email or phone; a company with its name or
    domain), give an id to choose one, or set ``new_contact`` / ``new_company`` to create new ones.
    ``create_deal`` makes a deal too (pipeline: the default one; name: "<company> – <interest>")."""

    version = serializers.IntegerField(required=False, min_value=1)
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all(), required=False, allow_null=True)
    new_contact = serializers.BooleanField(required=False, default=False)
    new_company = serializers.BooleanField(required=False, default=False)
    create_deal = serializers.BooleanField(required=False, default=False)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False, allow_null=True)
    deal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="A decimal number, e.g. 1200.50."
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, help_text="ISO 4217, e.g. USD.")
    expected_close_date = serializers.CharField(max_length=10, required=False, allow_blank=True, help_text="YYYY-MM-DD")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An id of a record the caller cannot see reads as an unknown id, like any other.
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["contact"].queryset = customer_selectors.contact_list(user=user).select_related(None)  # type: ignore[attr-defined]
            self.fields["company"].queryset = customer_selectors.company_list(user=user).select_related(None)  # type: ignore[attr-defined]


@extend_schema_view(
    list=extend_schema(description="The leads the caller may see; sort with `ordering` (score, created_at, name)."),
    create=extend_schema(description="Create a lead. Without an owner the assignment rules choose one."),
)
class LeadViewSet(ScopedModelViewSet):
    module = "sales"
    queryset = Lead.objects.select_related("owner", "team")
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    ordering_fields = ["score", "created_at", "name", "id"]
    ordering = ["-created_at", "-id"]
    action_permissions = {"convert": "edit"}

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Lead:
        return services.lead_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Lead, data: dict[str, Any], version: int) -> Lead:
        return services.lead_update(actor=actor, lead=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Lead) -> None:
        services.lead_delete(actor=actor, lead=instance)

    @extend_schema(request=ConvertSerializer, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, pk: Any = None) -> Response:
        """Convert the lead into a contact, a company and (``create_deal``) a deal, in one step; the
        lead then links to them. A lead already converted, or unqualified, is refused (400)."""
        lead = self.get_object()
        body = ConvertSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        deal = None
        if data.get("create_deal"):
            deal = {
                name: data.get(name) for name in ("pipeline", "deal_name", "amount", "currency", "expected_close_date")
            }
        converted = services.lead_convert(
            actor=request.user,
            lead=lead,
            version=data.get("version"),
            contact=data.get("contact"),
            company=data.get("company"),
            new_contact=data.get("new_contact", False),
            new_company=data.get("new_company", False),
            deal=deal,
        )
        return Response(
            LeadSerializer(converted, context=self.get_serializer_context()).data, status=status.HTTP_200_OK
        )


# --- assignment rules ------------------------------------------------------------------------------


class AssignmentRuleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One rule of the ordered list that decides who gets a new lead; the first matching rule that
    finds somebody available wins. Empty condition lists match any lead. ``method``: ``round_robin``
    or ``least_open`` among the members of ``team`` who are not away; ``user`` for a named person."""

    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False, max_length=300)
    regions = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=300)
    industries = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=300)
    company_sizes = serializers.ListField(child=serializers.CharField(max_length=16), required=False, max_length=300)
    sources = serializers.ListField(child=serializers.CharField(max_length=16), required=False, max_length=300)
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    order = serializers.IntegerField(min_value=0, max_value=32767, required=False)

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "order",
            "is_active",
            "method",
            "team",
            "user",
            "countries",
            "regions",
            "industries",
            "company_sizes",
            "sources",
            "last_assigned",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "last_assigned", "version", "created_at", "updated_at"]


@extend_schema_view(
    list=extend_schema(description="Every assignment rule, in the order they are tried (administrators)."),
    partial_update=extend_schema(description="Change a rule; send its `version` (or `If-Match`)."),
)
class AssignmentRuleViewSet(
    CRMAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The lead assignment rules. Administrators only (the permissions of the administration pages)."""

    module = settings_services.ADMIN_MODULE
    serializer_class = AssignmentRuleSerializer
    pagination_class = None  # a short, ordered list
    ordering_fields: list[str] = []
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[AssignmentRule]:
        return selectors.assignment_rule_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = settings_services.assignment_rule_create(
            actor=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer: Any) -> None:
        version = ScopedViewSetMixin.expected_version(self)  # type: ignore[arg-type]
        serializer.instance = settings_services.assignment_rule_update(
            actor=self.request.user, rule=serializer.instance, data=dict(serializer.validated_data), version=version
        )

    def perform_destroy(self, instance: AssignmentRule) -> None:
        settings_services.assignment_rule_delete(actor=self.request.user, rule=instance)


router = SimpleRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("assignment-rules", AssignmentRuleViewSet, basename="assignment-rule")
