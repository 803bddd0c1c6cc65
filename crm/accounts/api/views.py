from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.api.viewsets import CRMAPIView, ScopedModelViewSet, ScopedReadOnlyViewSet

from .. import services
from ..models import Role, Team, User
from .serializers import MeSerializer, RoleSerializer, TeamSerializer, UserSerializer


class MeView(CRMAPIView):
    """The user the request is authenticated as."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class UserViewSet(ScopedReadOnlyViewSet):
    module = "accounts"
    queryset = User.objects.select_related("role").prefetch_related("teams")
    serializer_class = UserSerializer
    filterset_fields = ["is_active", "role"]
    ordering_fields = ["id", "username", "date_joined"]
    ordering = ["id"]


class TeamViewSet(ScopedModelViewSet):
    module = "accounts"
    queryset = Team.objects.select_related("manager").prefetch_related("members")
    serializer_class = TeamSerializer
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Team:
        return services.team_create(actor=actor, **data)

    def update_service(self, *, actor: Any, instance: Team, data: dict[str, Any], version: int) -> Team:
        return services.team_update(actor=actor, team=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Team) -> None:
        services.team_delete(actor=actor, team=instance)


class RoleViewSet(ScopedModelViewSet):
    module = "accounts"
    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Role:
        return services.role_create(actor=actor, **data)

    def update_service(self, *, actor: Any, instance: Role, data: dict[str, Any], version: int) -> Role:
        return services.role_update(actor=actor, role=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Role) -> None:
        services.role_delete(actor=actor, role=instance)
