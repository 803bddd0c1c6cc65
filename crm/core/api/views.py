from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..filtersets import JournalEntryFilterSet
from ..models import Job, Notification
from .serializers import JobSerializer, JournalEntrySerializer, NotificationSerializer, SearchResultSerializer
from .viewsets import CRMAPIMixin, CRMAPIView


class JournalViewSet(CRMAPIMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[misc]
    """The audit log: every change, newest first. Filter by actor, record type, record id, date."""

    module = "audit"
    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilterSet
    ordering = ("-timestamp", "-id")
    ordering_fields = ["id"]

    def get_queryset(self) -> Any:
        return selectors.journal_list(user=self.request.user)


class JobViewSet(CRMAPIMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[misc]
    """The caller's own background jobs and their progress."""

    queryset = Job.objects.none()  # for the schema; requests get the caller's own jobs
    serializer_class = JobSerializer
    ordering = "-created_at"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        return selectors.job_list(user=self.request.user)


class NotificationViewSet(CRMAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[misc]
    queryset = Notification.objects.none()  # for the schema; requests get the caller's own
    serializer_class = NotificationSerializer
    ordering = "-created_at"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification_id = int(pk or 0)
        marked = services.notification_mark_read(user=request.user, notification_id=notification_id)
        if not marked and not selectors.notification_list(user=request.user).filter(pk=notification_id).exists():
            raise Http404
        return Response({"detail": "ok"})


class SearchView(CRMAPIView):
    """Global search across every record type the caller may see."""

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True)], responses=SearchResultSerializer(many=True))
    def get(self, request: Request) -> Response:
        results = []
        for label, group in selectors.search(user=request.user, query=request.query_params.get("q", "")):
            for r in group:
                results.append(
                    {"type": str(label), "title": r.title, "subtitle": r.subtitle, "url": r.url, "score": r.score}
                )
        return Response({"results": results})
