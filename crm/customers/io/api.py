"""``/api/v1/imports/`` and ``/api/v1/exports/``: start a job, then follow it (the caller's own jobs)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core import selectors as core_selectors
from crm.core.api.parsers import SafeJSONParser
from crm.core.api.serializers import JobSerializer, StrictFieldsMixin
from crm.core.api.viewsets import CRMAPIMixin
from crm.core.models import Job

from . import services
from .exporting import FORMATS, MODELS
from .importing import DUPLICATE_POLICIES, store_upload
from .mapping import TARGETS_BY_KEY, contact_targets, guess_mapping
from .reading import ImportFileError, inspect_file, max_bytes, preview
from .tasks import EXPORT_KINDS, IMPORT_KINDS


class FileJobSerializer(JobSerializer):
    """A job with the link to its file: the export, or an import's rejected rows."""

    download_url = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "params", "download_url"]
        read_only_fields = fields

    def get_download_url(self, job: Job) -> str | None:
        if job.status != "succeeded" or not job.result_file:
            return None
        return reverse("core:job_download", args=[job.pk])


class ImportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    """A CSV, XLSX or vCard file and what to do with it."""

    file = serializers.FileField(help_text="CSV (UTF-8 or GBK), XLSX (first sheet) or vCard (.vcf).")
    duplicates = serializers.ChoiceField(choices=list(DUPLICATE_POLICIES), default="skip")
    has_header = serializers.BooleanField(default=True, help_text="The first row holds the column names.")
    mapping = serializers.CharField(
        required=False,
        help_text='JSON object {"column name": "field"}; columns not named are not imported. '
        "Guessed from the column names when left out. Fields: "
        + ", ".join(TARGETS_BY_KEY)
        + " and cf_<key> for each active custom field of contacts.",
    )

    def validate_file(self, value: Any) -> Any:
        if value.size > max_bytes():
            raise serializers.ValidationError(_("The file is too large."))
        return value

    def validate_mapping(self, value: str) -> dict[str, str]:
        try:
            mapping = json.loads(value)
        except ValueError:
            raise serializers.ValidationError(_("Send a JSON object.")) from None
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise serializers.ValidationError(_("Send a JSON object of column names and field names."))
        known = {target.key for target in contact_targets()}
        unknown = sorted(v for v in mapping.values() if v and v not in known)
        if unknown:
            raise serializers.ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)[:200]})
        return {str(k): v for k, v in mapping.items()}


class ExportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    """What to export: the records the caller may see, filtered like the list endpoint."""

    model = serializers.ChoiceField(choices=list(MODELS), default="contacts")
    format = serializers.ChoiceField(choices=list(FORMATS), default="csv", help_text="vcf for contacts only.")
    filters = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


class _OwnJobsViewSet(CRMAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[misc]
    module = "customers"
    queryset = Job.objects.none()  # for the schema; requests get the caller's own jobs
    serializer_class = FileJobSerializer
    ordering = "-created_at"
    kinds: tuple[str, ...] = ()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        return core_selectors.job_list(user=self.request.user).filter(kind__in=self.kinds)

    def accepted(self, job: Job) -> Response:
        job.refresh_from_db()
        return Response(FileJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportViewSet(_OwnJobsViewSet):
    """Imports of contacts: POST a file (multipart) to start one; GET to follow it."""

    kinds = IMPORT_KINDS
    action_permissions = {"create": "create"}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportRequestSerializer}, responses={202: FileJobSerializer})
    def create(self, request: Request) -> Response:
        given = ImportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        uploaded = data["file"]
        path = store_upload(uploaded)
        try:
            job = self._start(request, path, uploaded.name, data)
        except ImportFileError as exc:
            default_storage.delete(path)
            raise serializers.ValidationError({"file": [str(exc)]}) from None
        except DjangoValidationError:
            default_storage.delete(path)
            raise  # the API's error handler turns it into field errors
        return self.accepted(job)

    def _start(self, request: Request, path: str, name: str, data: dict[str, Any]) -> Job:
        with default_storage.open(path, "rb") as handle:
            head = handle.read(2048)
            expect = "vcard" if b"BEGIN:VCARD" in head.upper() else "table"
            info = inspect_file(handle, expect=expect)
            mapping: list[str] = []
            if info.kind != "vcard":
                header, _rows = preview(handle, info, has_header=data["has_header"], limit=1)
                given = data.get("mapping")
                mapping = [given.get(title, "") for title in header] if given is not None else guess_mapping(header)
        return services.contact_import_start(
            actor=request.user,
            path=path,
            file_name=str(name),
            info=info,
            mapping=mapping,
            has_header=data["has_header"],
            duplicates=data["duplicates"],
        )


class ExportViewSet(_OwnJobsViewSet):
    """Exports of contacts or companies: POST to start one; GET to follow it and find its file."""

    kinds = EXPORT_KINDS
    action_permissions = {"create": "export"}
    parser_classes = [SafeJSONParser]

    @extend_schema(request=ExportRequestSerializer, responses={202: FileJobSerializer})
    def create(self, request: Request) -> Response:
        given = ExportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        job = services.customer_export_start(
            actor=request.user, model=data["model"], fmt=data["format"], filters=data["filters"]
        )
        return self.accepted(job)


router = SimpleRouter()
router.register("imports", ImportViewSet, basename="import")
router.register("exports", ExportViewSet, basename="export")
