"""``/api/v1/attachments/``: list (by record), upload (multipart), details, download, delete.

An attachment is reachable exactly when its record is (``selectors``); a hidden record or attachment
answers 404. Upload and delete need ``edit`` on the record's module; writes go through ``services``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from ..api.serializers import StrictFieldsMixin
from ..api.viewsets import CRMAPIMixin
from ..models import Attachment
from ..registry import platform
from . import responses, selectors, services, uploads


class AttachmentSerializer(serializers.ModelSerializer):
    record_type = serializers.SerializerMethodField(help_text='The kind of record, e.g. "customers.contact".')
    record_id = serializers.IntegerField(source="object_id", read_only=True)
    mime_type = serializers.CharField(read_only=True, help_text="The type found in the file's content.")
    uploaded_by_name = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "record_type",
            "record_id",
            "name",
            "mime_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_by_name",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_record_type(self, attachment: Attachment) -> str:
        return selectors.record_type_of(attachment)

    @extend_schema_field(OpenApiTypes.STR)
    def get_uploaded_by_name(self, attachment: Attachment) -> str:
        user = attachment.uploaded_by
        if user is None:
            return ""
        return str(user.get_full_name() or user.get_username())  # type: ignore[attr-defined]

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        url = reverse("core-api:attachment-download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class AttachmentUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    """One file for one record (multipart/form-data)."""

    record_type = serializers.CharField(
        help_text='The kind of record, e.g. "customers.contact" or "customers.company".'
    )
    record_id = serializers.IntegerField(min_value=1)
    file = serializers.FileField(
        allow_empty_file=True,  # the service says "is empty" with the file's name
        help_text="PDF, PNG, JPEG, GIF, WebP, text, CSV, DOCX, XLSX, PPTX, ODT, ODS, ODP or ZIP, "
        "recognised by content; the extension must agree.",
    )

    def validate_record_type(self, value: str) -> str:
        if platform.attachment_target(value) is None:
            raise serializers.ValidationError(
                _("Files cannot be attached to this kind of record. Use one of: %(kinds)s.")
                % {"kinds": ", ".join(sorted(platform.attachments))}
            )
        return value.lower()


RECORD_FILTERS = [
    OpenApiParameter(
        "record_type", OpenApiTypes.STR, description='The kind of record, e.g. "customers.contact". Needs record_id.'
    ),
    OpenApiParameter("record_id", OpenApiTypes.INT, description="The record's id. Needs record_type."),
]


@extend_schema(tags=["attachments"])
class AttachmentViewSet(  # type: ignore[misc]
    CRMAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Files attached to records. Access follows the record: a record you cannot see has no files
    for you; adding and deleting files needs the edit permission of the record's module."""

    queryset = Attachment.objects.none()  # for the schema; requests get what the caller may see
    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser]
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Attachment]:
        if getattr(self, "swagger_fake_view", False):
            return Attachment.objects.none()
        return selectors.attachments_visible_to(self.request.user)

    def get_object(self) -> Attachment:
        attachment = selectors.attachment_get(user=self.request.user, pk=self.kwargs["pk"])
        if attachment is None:
            raise NotFound
        return attachment

    @extend_schema(parameters=RECORD_FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self._filtered(request)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _filtered(self, request: Request) -> QuerySet[Attachment]:
        record_type = request.query_params.get("record_type", "")
        record_id = request.query_params.get("record_id", "")
        if not record_type and not record_id:
            return self.get_queryset()
        errors: dict[str, list[str]] = {}
        if platform.attachment_target(record_type) is None:
            errors["record_type"] = [_("Name a kind of record that takes files, e.g. customers.contact.")]
        if not record_id.isdigit() or len(record_id) > 18:
            errors["record_id"] = [_("Name the record by its id (a whole number).")]
        if errors:
            raise serializers.ValidationError(errors)
        record = selectors.record_get(user=request.user, record_type=record_type, record_id=record_id)
        if record is None:
            raise NotFound
        return selectors.record_attachments(record)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    )
    def create(self, request: Request) -> Response:
        refusal = uploads.refusal(request)
        if refusal is not None:
            messages = [m for outcome in uploads.refused_outcomes(refusal, []) for m in outcome.errors]
            raise serializers.ValidationError({"file": messages})
        given = AttachmentUploadSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        record = selectors.record_get(user=request.user, record_type=data["record_type"], record_id=data["record_id"])
        if record is None:
            raise NotFound
        try:
            attachment = services.attachment_upload(actor=request.user, obj=record, file=data["file"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"file": exc.messages}) from None
        body = AttachmentSerializer(attachment, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.attachment_delete(actor=request.user, attachment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, with its type in Content-Type and its name in Content-Disposition.",
            ),
            404: OpenApiResponse(description="No such attachment, or its record is hidden from you."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        try:
            return responses.file_response(self.get_object(), inline=False)
        except Http404:
            raise NotFound from None


router = SimpleRouter()
router.register("attachments", AttachmentViewSet, basename="attachment")
