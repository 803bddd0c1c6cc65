"""API of web forms: ``/api/v1/lead-forms/``, for administrators (the ``accounts`` permissions of
the user, team and role pages), through the same services as the settings pages. A single form's
response carries its public addresses and the HTML snippet to embed (in the request's language)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import StrictFieldsMixin
from crm.core.api.viewsets import CRMAPIMixin, ScopedViewSetMixin

from ..models import LeadForm
from . import selectors, services, snippet
from .fields import NAMES

ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "create", "PATCH": "edit", "DELETE": "delete"}


class LeadFormPermission(permissions.BasePermission):
    """Administrators only; never a write with a read-only token."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method not in permissions.SAFE_METHODS and getattr(
            getattr(request, "auth", None), "read_only", False
        ):
            return False
        return services.can_manage(user, ACTIONS.get(request.method, "edit"))


def _names_field(help_text: str) -> serializers.ListField:
    # Names are checked by the service, whose message lists the names a form can ask for.
    return serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=len(NAMES), required=False, help_text=help_text
    )


class LeadFormSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A web form. ``fields`` lists the lead fields it asks for, in order (one of ``email`` and
    ``phone`` at least); ``required_fields`` is a part of them."""

    required_fields = _names_field("The fields a visitor must fill in: some of `fields`.")
    page_url = serializers.SerializerMethodField()
    submit_url = serializers.SerializerMethodField()

    class Meta:
        model = LeadForm
        fields = [
            "id",
            "name",
            "token",
            "fields",
            "required_fields",
            "thank_you",
            "double_opt_in",
            "consent_text",
            "source",
            "is_active",
            "submissions",
            "page_url",
            "submit_url",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "token", "submissions", "version", "created_at", "updated_at"]
        extra_kwargs = {"name": {"required": False}}

    def get_fields(self) -> dict[str, Any]:
        # Added here: on the class, a field called "fields" would hide the serializer's own ``fields``.
        fields = super().get_fields()
        fields["fields"] = _names_field("The lead fields the form asks for, in order. Among: " + ", ".join(NAMES) + ".")
        return fields

    @extend_schema_field(serializers.URLField())
    def get_page_url(self, obj: LeadForm) -> str:
        return snippet.page_url(obj, self.context.get("request"))

    @extend_schema_field(serializers.URLField())
    def get_submit_url(self, obj: LeadForm) -> str:
        return snippet.submit_url(obj, self.context.get("request"))

    def get_validators(self) -> list[Any]:
        return []  # the form's rules are the service's


class LeadFormDetailSerializer(LeadFormSerializer):
    snippet = serializers.SerializerMethodField(
        help_text="The HTML to paste into a website, in the request's language."
    )

    class Meta(LeadFormSerializer.Meta):
        fields = [*LeadFormSerializer.Meta.fields, "snippet"]

    @extend_schema_field(serializers.CharField())
    def get_snippet(self, obj: LeadForm) -> str:
        return snippet.embed_snippet(obj, request=self.context.get("request"))


class LeadFormFilterSet(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = LeadForm
        fields = ["is_active"]


@extend_schema_view(
    list=extend_schema(description="Every web form (inactive ones too). Administrators only."),
    retrieve=extend_schema(description="A web form with its public addresses and the HTML snippet to embed."),
    create=extend_schema(
        description="Add a web form. `fields` must name `email` or `phone`; `required_fields` must be among "
        "`fields`; double opt-in needs `email`."
    ),
    partial_update=extend_schema(
        description="Change a web form; send its `version` (or `If-Match`). Its `token` never changes."
    ),
    destroy=extend_schema(description="Delete a web form; the leads it brought in are kept."),
)
class LeadFormViewSet(
    CRMAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Web-to-lead forms: what each asks for, and where it posts."""

    permission_classes = [LeadFormPermission]
    filterset_class = LeadFormFilterSet
    ordering_fields: list[str] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[LeadForm]:
        return selectors.lead_form_list()

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return LeadFormSerializer if self.action == "list" else LeadFormDetailSerializer

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.lead_form_create(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        form = serializer.instance
        version = ScopedViewSetMixin.expected_version(self)  # type: ignore[arg-type]
        if set(data) == {"is_active"}:
            serializer.instance = services.lead_form_set_active(
                actor=self.request.user, form=form, active=data["is_active"], version=version
            )
        else:
            serializer.instance = services.lead_form_update(
                actor=self.request.user, form=form, data=data, version=version
            )

    def perform_destroy(self, instance: LeadForm) -> None:
        services.lead_form_delete(actor=self.request.user, form=instance)


router = SimpleRouter()
router.register("lead-forms", LeadFormViewSet, basename="lead-form")
