"""API of custom field definitions: ``/api/v1/custom-fields/``.

Anyone who may view customers reads them (a program needs them to send ``custom`` values); only
administrators (the ``accounts`` permissions of the user, team and role pages) create, change or
delete them, through the same services as the settings pages.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.routers import SimpleRouter

from crm.core import access
from crm.core.api.serializers import StrictFieldsMixin
from crm.core.api.viewsets import CRMAPIMixin, ScopedViewSetMixin

from ..choices import CustomFieldEntity
from ..models import CustomField
from . import selectors, services

WRITE_ACTIONS = {"POST": "create", "PUT": "edit", "PATCH": "edit", "DELETE": "delete"}


class CustomFieldPermission(permissions.BasePermission):
    """Reading: customers' view permission (or the administrator's). Writing: the administrator's,
    never with a read-only token."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return access.can(user, "customers", "view") or services.can_manage(user, "view")
        if getattr(getattr(request, "auth", None), "read_only", False):
            return False
        return services.can_manage(user, WRITE_ACTIONS.get(request.method, "edit"))


class CustomFieldSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A custom field of companies or contacts. ``key`` and ``entity`` are chosen once; ``default`` and
    the values of records follow the field's ``kind`` (see the ``custom`` field of companies and
    contacts); ``choices`` is the list offered by the kinds ``choice`` and ``multi_choice``. The values of
    a ``sensitive`` field are stored encrypted, read as ``••••••`` by callers whose role may not view
    sensitive fields, and cannot be filtered on; changing the flag re-encrypts or decrypts them."""

    key = serializers.CharField(max_length=50, required=False, allow_blank=True)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False, max_length=500
    )
    default = serializers.JSONField(required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)

    class Meta:
        model = CustomField
        fields = [
            "id",
            "entity",
            "key",
            "label",
            "kind",
            "required",
            "default",
            "help_text",
            "choices",
            "position",
            "sensitive",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "created_at", "updated_at"]
        extra_kwargs = {
            "label": {"validators": []},
            "help_text": {"required": False},
        }

    def get_validators(self) -> list[Any]:
        return []  # the (entity, key) rule is the service's, with a clearer message


class CustomFieldFilterSet(django_filters.FilterSet):
    entity = django_filters.ChoiceFilter(choices=CustomFieldEntity.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = CustomField
        fields = ["entity", "is_active"]


@extend_schema_view(
    list=extend_schema(description="Every custom field (inactive ones too), by record type and order."),
    create=extend_schema(description="Add a field (administrators). The key is made from the label when empty."),
    partial_update=extend_schema(
        description="Change a field (administrators); send its `version` (or `If-Match`). The key and the "
        "record type never change; the kind only while no record holds a value."
    ),
    destroy=extend_schema(
        description="Delete a field no record holds a value of (administrators); otherwise set "
        "`is_active` to false, which hides it and keeps the values."
    ),
)
class CustomFieldViewSet(
    CRMAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Custom fields of companies and contacts: what ``custom`` may hold on each record type."""

    serializer_class = CustomFieldSerializer
    permission_classes = [CustomFieldPermission]
    filterset_class = CustomFieldFilterSet
    pagination_class = None  # at most a hundred per record type
    ordering_fields: list[str] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[CustomField]:
        return selectors.definition_list()

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.custom_field_create(actor=self.request.user, **data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        field = serializer.instance
        version = ScopedViewSetMixin.expected_version(self)  # type: ignore[arg-type]
        if set(data) == {"is_active"}:
            serializer.instance = services.custom_field_set_active(
                actor=self.request.user, field=field, active=data["is_active"], version=version
            )
        else:
            serializer.instance = services.custom_field_update(
                actor=self.request.user, field=field, data=data, version=version
            )

    def perform_destroy(self, instance: CustomField) -> None:
        services.custom_field_delete(actor=self.request.user, field=instance)


router = SimpleRouter()
router.register("custom-fields", CustomFieldViewSet, basename="custom-field")
