"""API of privacy requests: ``/api/v1/privacy-requests/`` (list, create, retrieve), ``start/`` (the
export or erasure as a job; after a failure it resumes) and ``download/`` (the export, for the person
who ran it). Everything needs the "Data privacy" permission and goes through the pages' services."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import StrictFieldsMixin
from crm.core.api.viewsets import ScopedViewSetMixin
from crm.core.privacy import privacy

from . import services
from .choices import RequestKind
from .models import PrivacyRequest


class PrivacyRequestSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    job_status = serializers.CharField(source="job.status", read_only=True, default=None)
    job_progress = serializers.IntegerField(source="job.progress", read_only=True, default=None)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = PrivacyRequest
        fields = [
            "id",
            "kind",
            "subject_kind",
            "subject_id",
            "subject_label",
            "notes",
            "status",
            "requested_by",
            "handled_by",
            "created_at",
            "due_at",
            "finished_at",
            "is_overdue",
            "outcome",
            "job",
            "job_status",
            "job_progress",
        ]
        read_only_fields = [
            "subject_label",
            "status",
            "requested_by",
            "handled_by",
            "created_at",
            "due_at",
            "finished_at",
            "outcome",
            "job",
        ]

    def validate_subject_kind(self, value: str) -> str:
        if value not in privacy.subjects:
            raise serializers.ValidationError(
                _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(sorted(privacy.subjects))}
            )
        return value


class PrivacyRequestViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    module = "dataprotection"
    queryset = PrivacyRequest.objects.select_related("job").order_by("-created_at", "-id")
    serializer_class = PrivacyRequestSerializer
    action_permissions = {"start": "edit", "download": "export"}

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = services.privacy_request_create(
            actor=self.request.user,
            kind=data["kind"],
            subject_kind=data["subject_kind"],
            subject_id=data["subject_id"],
            notes=data.get("notes", ""),
        )

    @extend_schema(request=None, responses={202: PrivacyRequestSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Any, pk: Any = None) -> Response:
        """Start the export or the erasure (resume it after a failure)."""
        instance = self.get_object()
        services.privacy_request_start(actor=request.user, request=instance)
        instance.refresh_from_db()
        return Response(self.get_serializer(instance).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: OpenApiResponse(description="The export as a ZIP file.")})
    @action(detail=True, methods=["get"])
    def download(self, request: Any, pk: Any = None) -> FileResponse:
        """The export's ZIP (data.json, summary.html, files), for the person who ran the export."""
        instance = self.get_object()
        job = instance.job
        if instance.kind != RequestKind.EXPORT or job is None or not job.result_file:
            raise Http404
        if job.created_by_id != request.user.pk:
            raise Http404
        services.privacy_request_record_download(actor=request.user, request=instance)
        return FileResponse(
            job.result_file.open("rb"), as_attachment=True, filename=str(job.result_file.name).rsplit("/", 1)[-1]
        )


router = SimpleRouter()
router.register("privacy-requests", PrivacyRequestViewSet, basename="privacy-request")

app_name = "dataprotection-api"
urlpatterns = router.urls
