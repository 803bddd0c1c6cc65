from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.core.api.serializers import SensitiveFieldsMixin, StrictFieldsMixin

from ..custom_fields import selectors as custom_field_selectors
from ..custom_fields.sensitive import shown
from ..models import Company, Contact, ContactEmail, ContactPhone, Tag
from ..services import COMPANY_FIELDS

CUSTOM_HELP = (
    "Values of the record type's custom fields, by key (see /api/v1/custom-fields/). Types: text, long "
    "text, URL, email and phone as strings (phones come back in E.164); number and money as JSON numbers; "
    "date as YYYY-MM-DD; yes/no as true/false; one choice as one of the field's choices; several choices as "
    "a list of them. On an update only the keys sent change (null clears one); on create, fields not sent "
    "get their default. Errors are reported per field as `custom.<key>`. The values of fields marked "
    "sensitive read as `••••••` for a caller whose role may not view sensitive fields; sending that mask "
    "back leaves the value as it is."
)


@extend_schema_field(OpenApiTypes.OBJECT)
class CustomValuesField(serializers.JSONField):
    """A record's ``custom`` object: only the active fields are shown, those marked sensitive masked for
    a caller who may not view sensitive fields; the service checks each value. A sensitive value sent
    back as the mask itself (a masked record read, changed and sent again) is left as it is."""

    def __init__(self, *, entity: str, **kwargs: Any) -> None:
        self.entity = entity
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", CUSTOM_HELP)
        super().__init__(**kwargs)

    def definitions(self) -> list[Any]:
        found = getattr(self, "_active", None)
        if found is None:  # once per serializer (a list's rows share it)
            found = self._active = list(custom_field_selectors.active_by_key(self.entity).values())
        return found

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Send the custom fields as an object of key and value pairs."))
        return value  # masked values sent back are left out by the services (masking.without_masks)

    def get_attribute(self, instance: Any) -> Any:
        return (instance, super().get_attribute(instance))  # the record too: masking notes whose value was read

    def to_representation(self, value: Any) -> Any:
        record, stored = value if isinstance(value, tuple) else (None, value)
        stored = stored if isinstance(stored, dict) else {}
        return {
            definition.key: shown(record, definition, stored[definition.key])
            for definition in self.definitions()
            if definition.key in stored
        }


class TagSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A label on companies and contacts."""

    class Meta:
        model = Tag
        fields = ["id", "name", "color"]
        read_only_fields = ["id"]


class CompanySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A company. Owner defaults to the caller; the domain is derived from the website when empty."""

    tags = serializers.PrimaryKeyRelatedField(many=True, queryset=Tag.objects.all(), required=False)
    custom = CustomValuesField(entity="company")

    class Meta:
        model = Company
        fields = ["id", *COMPANY_FIELDS, "tags", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class ContactEmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactEmail
        fields = ["email", "kind", "is_primary"]


class ContactPhoneSerializer(SensitiveFieldsMixin, serializers.ModelSerializer):
    number = serializers.CharField(max_length=40, help_text="Any format; stored in E.164.")
    sensitive_fields = ("number",)

    def sensitive_owner(self, instance: Any) -> tuple[Any, Any]:
        return Contact, getattr(instance, "contact_id", None)

    class Meta:
        model = ContactPhone
        fields = ["number", "kind", "is_primary"]


class ContactSerializer(StrictFieldsMixin, SensitiveFieldsMixin, serializers.ModelSerializer):
    """A person. ``emails`` and ``phones``, when sent, replace the lists; phones are stored in E.164.
    Sensitive fields (phones, street, postal code, date of birth, identity number, private notes) are
    stored encrypted and read as ``••••••`` by a caller whose role may not view sensitive fields."""

    sensitive_fields = ("phone", "street", "postal_code", "date_of_birth", "id_number", "private_notes")

    emails = ContactEmailSerializer(many=True, required=False)
    phones = ContactPhoneSerializer(many=True, required=False)
    tags = serializers.PrimaryKeyRelatedField(many=True, queryset=Tag.objects.all(), required=False)
    custom = CustomValuesField(entity="contact")

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
            "id_number",
            "private_notes",
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
