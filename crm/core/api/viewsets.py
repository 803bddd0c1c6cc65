"""Base API views. The scoped queryset is the only one a viewset can serve: subclasses name a
``queryset`` (or ``base_queryset()``) and the base scopes it through core.access; overriding
``get_queryset`` is refused at class creation."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from rest_framework import mixins, viewsets
from rest_framework.exceptions import UnsupportedMediaType, ValidationError
from rest_framework.request import is_form_media_type
from rest_framework.views import APIView

from .. import access, context
from ..choices import ChangeSource


class CRMAPIMixin:
    """Marks changes made by an API request as such, with the authenticated user (token or session)."""

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # A form body the view takes no parser for would otherwise read as empty ("field required").
        content_type = request.content_type or ""
        has_body = int(request.META.get("CONTENT_LENGTH") or 0) > 0
        if (
            has_body
            and is_form_media_type(content_type)
            and not request.negotiator.select_parser(request, request.parsers)
        ):
            raise UnsupportedMediaType(content_type.split(";")[0])
        if request.user and request.user.is_authenticated:
            context.set_actor(request.user)
        context.set_source(ChangeSource.API)


class CRMAPIView(CRMAPIMixin, APIView):
    pass


class ScopedViewSetMixin(CRMAPIMixin):
    module: str = ""
    queryset: models.QuerySet[Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override base_queryset() instead so that "
                "the access scope is always applied."
            )

    def base_queryset(self) -> models.QuerySet[Any]:
        assert self.queryset is not None, f"{type(self).__name__} needs a queryset"
        return self.queryset.all()

    def get_queryset(self) -> models.QuerySet[Any]:
        request = self.request  # type: ignore[attr-defined]
        action = {"PUT": "edit", "PATCH": "edit", "DELETE": "delete"}.get(request.method, "view")
        return access.scope_queryset(self.base_queryset(), request.user, action=action)

    def expected_version(self) -> int:
        """The version the client edited, from ``If-Match`` or the body's ``version``."""
        request = self.request  # type: ignore[attr-defined]
        raw = request.headers.get("If-Match", "").strip('"W/ ') or request.data.get("version")
        if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
            return raw
        if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
            return int(raw)
        raise ValidationError(
            {"version": [_("Send the version you edited (the record's 'version' field) to save changes.")]}
        )


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[misc]
    pass


class ScopedModelViewSet(  # type: ignore[misc]
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """CRUD whose writes go through the app's services: define ``create_service``,
    ``update_service`` and ``delete_service`` (keyword-only: actor, instance, data, version)."""

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update_service(self, *, actor: Any, instance: Any, data: dict[str, Any], version: int) -> Any:
        raise NotImplementedError

    def delete_service(self, *, actor: Any, instance: Any) -> None:
        raise NotImplementedError

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = self.create_service(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.update_service(
            actor=self.request.user,
            instance=serializer.instance,
            data=dict(serializer.validated_data),
            version=self.expected_version(),
        )

    def perform_destroy(self, instance: Any) -> None:
        self.delete_service(actor=self.request.user, instance=instance)
