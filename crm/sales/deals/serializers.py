"""API representations of pipelines, stages, deals and their stage changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from crm.accounts.models import Team
from crm.core import money
from crm.core.api.serializers import StrictFieldsMixin
from crm.customers.models import Company, Contact

from ..models import Competitor, Deal, DealProduct, DealStageChange, LossReason, Pipeline, Product, Stage

# Small integers get the same bounds on every database (Django's own depend on the connection).
ORDER = {"min_value": 0, "max_value": 32767, "read_only": True}


class StageSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(**ORDER)  # type: ignore[arg-type]

    class Meta:
        model = Stage
        fields = ["id", "name", "order", "probability", "kind"]


class PipelineSerializer(serializers.ModelSerializer):
    """A pipeline with its stages in order."""

    stages = StageSerializer(many=True, read_only=True)
    order = serializers.IntegerField(**ORDER)  # type: ignore[arg-type]

    class Meta:
        model = Pipeline
        fields = ["id", "name", "order", "is_default", "is_active", "stages"]


class DealContactSerializer(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class DealSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A deal. ``amount`` is a decimal string in ``currency`` (ISO 4217). The stage must belong to the
    pipeline; when left out, the pipeline's first open stage. ``status`` and ``closed_on`` follow the
    stage; move a deal with ``POST /deals/{id}/move/`` and close it with ``POST /deals/{id}/close/``."""

    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False)
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all(), required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    contacts = DealContactSerializer(many=True, required=False, source="contact_roles")
    competitors = serializers.PrimaryKeyRelatedField(queryset=Competitor.objects.all(), many=True, required=False)
    weighted_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "pipeline",
            "stage",
            "status",
            "amount",
            "currency",
            "probability",
            "weighted_amount",
            "expected_close_date",
            "closed_on",
            "company",
            "contacts",
            "competitors",
            "source",
            "next_step",
            "description",
            "loss_reason",
            "lost_to",
            "owner",
            "team",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "closed_on", "loss_reason", "lost_to", "version", "created_at", "updated_at"]

    def validate_currency(self, value: str) -> str:
        try:
            return money.validate_currency(value)
        except Exception as exc:
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        pipeline = attrs.get("pipeline") or getattr(self.instance, "pipeline", None)
        stage = attrs.get("stage")
        if stage is not None and pipeline is not None and stage.pipeline_id != pipeline.pk:
            raise serializers.ValidationError({"stage": [_("This stage belongs to another pipeline.")]})
        return attrs

    def to_representation(self, instance: Deal) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["contacts"] = [{"contact": row.contact_id, "role": row.role} for row in instance.contact_roles.all()]
        return data


def service_data(validated: dict[str, Any]) -> dict[str, Any]:
    data = dict(validated)
    if "contact_roles" in data:
        data["contacts"] = [(row["contact"], row.get("role", "")) for row in data.pop("contact_roles")]
    return data


class DealMoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    version = serializers.IntegerField(min_value=1)
    before = serializers.PrimaryKeyRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)
    loss_reason = serializers.PrimaryKeyRelatedField(queryset=LossReason.objects.all(), required=False, allow_null=True)
    lost_to = serializers.PrimaryKeyRelatedField(queryset=Competitor.objects.all(), required=False, allow_null=True)


class DealCloseSerializer(serializers.Serializer):
    won = serializers.BooleanField()
    version = serializers.IntegerField(min_value=1)
    loss_reason = serializers.PrimaryKeyRelatedField(queryset=LossReason.objects.all(), required=False, allow_null=True)
    lost_to = serializers.PrimaryKeyRelatedField(queryset=Competitor.objects.all(), required=False, allow_null=True)


class DealProductSerializer(serializers.ModelSerializer):
    """A product on a deal. Without ``unit_price`` the product's price in the default price book of the
    deal's currency is taken."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"), default=Decimal(1))
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)

    class Meta:
        model = DealProduct
        fields = ["id", "product", "quantity", "unit_price"]


class DealStageChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealStageChange
        fields = ["id", "from_stage", "to_stage", "changed_by", "changed_at", "amount"]


class LossReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = LossReason
        fields = ["id", "name", "is_active"]


class CompetitorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Competitor
        fields = ["id", "name", "website"]
