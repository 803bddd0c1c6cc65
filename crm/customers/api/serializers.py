from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crm.core.api.serializers import StrictFieldsMixin

from ..models import Company, Contact, ContactEmail, ContactPhone, Tag
from ..services import COMPANY_FIELDS


class TagSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A label on companies and contacts."""

    class Meta:
        model = Tag
        fields = ["id", "name", "color"]
        read_only_fields = ["id"]


class CompanySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A company. Owner defaults to the caller; the domain is derived from the website when empty."""

    tags = serializers.PrimaryKeyRelatedField(many=True, queryset=Tag.objects.all(), required=False)

    class Meta:
        model = Company
        fields = ["id", *COMPANY_FIELDS, "tags", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class ContactEmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactEmail
        fields = ["email", "kind", "is_primary"]


class ContactPhoneSerializer(serializers.ModelSerializer):
    number = serializers.CharField(max_length=40, help_text="Any format; stored in E.164.")

    class Meta:
        model = ContactPhone
        fields = ["number", "kind", "is_primary"]


class ContactSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A person. ``emails`` and ``phones``, when sent, replace the lists; phones are stored in E.164."""

    emails = ContactEmailSerializer(many=True, required=False)
    phones = ContactPhoneSerializer(many=True, required=False)
    tags = serializers.PrimaryKeyRelatedField(many=True, queryset=Tag.objects.all(), required=False)

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "first_name",
            "last_name",
            "full_name",
            "title",
            "company",
            "lifecycle_stage",
            "source",
            "date_of_birth",
            "email",
            "phone",
            "emails",
            "phones",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "owner",
            "team",
            "tags",
            "custom",
            "last_contacted_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "name", "email", "phone", "last_contacted_at", "version", "created_at", "updated_at"]

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)
        for key in ("emails", "phones"):
            if key in values:
                values[key] = [dict(item) for item in values[key]]
        return values
