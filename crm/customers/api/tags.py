"""Tags through the API: anyone who sees customers lists them; creating, renaming and deleting need the
customers module's create, edit and delete permissions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from crm.core.api.viewsets import ScopedModelViewSet

from .. import services
from ..models import Tag
from .serializers import TagSerializer


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("q", str, description="Tags whose name contains this text.")],
    )
)
class TagViewSet(ScopedModelViewSet):
    module = "customers"
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]

    def base_queryset(self) -> Any:
        queryset = Tag.objects.all()
        query = self.request.query_params.get("q", "").strip()
        if query:
            queryset = queryset.filter(name__icontains=query[:50])
        return queryset

    def expected_version(self) -> int:  # tags carry no version: the last rename wins
        return 0

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Tag:
        return services.tag_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Tag, data: dict[str, Any], version: int) -> Tag:
        return services.tag_update(actor=actor, tag=instance, data=data)

    def delete_service(self, *, actor: Any, instance: Tag) -> None:
        services.tag_delete(actor=actor, tag=instance)
