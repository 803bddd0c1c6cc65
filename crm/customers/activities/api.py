"""REST API of activities and tasks: ``/api/v1/activities/`` and ``/api/v1/tasks/``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from crm.accounts.models import User
from crm.core.api.serializers import StrictFieldsMixin
from crm.core.api.viewsets import ScopedModelViewSet

from .. import selectors as customer_selectors
from ..models import Activity, Company, Contact, Task
from . import services
from .filtersets import ActivityFilterSet, TaskFilterSet


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A link to a contact or company the caller can see; any other id is "does not exist", whether
    or not it exists (no probing of hidden records)."""

    def __init__(self, *, model: type[Any], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        if request is None:
            return self.model.objects.none()
        if self.model is Contact:
            return customer_selectors.contact_list(user=request.user)
        return customer_selectors.company_list(user=request.user)


class ActiveUserField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(is_active=True)


class ActivitySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A note, call, meeting or email about a contact and/or a company (at least one of them).

    ``body`` is Markdown; ``body_html`` its sanitised rendering. Calls use ``direction``, ``duration``
    (seconds) and ``outcome``; meetings ``starts_at``, ``ends_at``, ``location`` and ``attendees``
    (user ids); emails ``subject`` and ``direction``. The type cannot change after creation.
    """

    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)
    company = VisibleRelatedField(model=Company, required=False, allow_null=True)
    attendees = ActiveUserField(many=True, required=False)
    body_html = serializers.CharField(read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "subject",
            "body",
            "body_html",
            "occurred_at",
            "contact",
            "company",
            "direction",
            "duration",
            "outcome",
            "starts_at",
            "ends_at",
            "location",
            "attendees",
            "owner",
            "team",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "body_html", "owner", "team", "version", "created_at", "updated_at"]
        extra_kwargs = {"occurred_at": {"required": False}}


class TaskSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A task, assigned to the caller unless ``assignee`` names another active user. Setting
    ``status`` to ``done`` completes it (``completed_at`` is set); a new ``reminder_at`` reminds again."""

    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)
    company = VisibleRelatedField(model=Company, required=False, allow_null=True)
    assignee = ActiveUserField(required=False)

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "notes",
            "due_at",
            "priority",
            "status",
            "assignee",
            "reminder_at",
            "reminded_at",
            "contact",
            "company",
            "completed_at",
            "owner",
            "team",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "reminded_at",
            "completed_at",
            "owner",
            "team",
            "version",
            "created_at",
            "updated_at",
        ]


class ActivityViewSet(ScopedModelViewSet):
    module = "customers"
    queryset = Activity.objects.select_related("owner", "contact", "company").prefetch_related("attendees")
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["occurred_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Activity:
        return services.activity_log(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Activity, data: dict[str, Any], version: int) -> Activity:
        return services.activity_update(actor=actor, activity=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Activity) -> None:
        services.activity_delete(actor=actor, activity=instance)


class TaskViewSet(ScopedModelViewSet):
    module = "customers"
    queryset = Task.objects.select_related("assignee", "contact", "company")
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    ordering_fields = ["id"]
    ordering = ["-id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Task:
        return services.task_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Task, data: dict[str, Any], version: int) -> Task:
        return services.task_update(actor=actor, task=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Task) -> None:
        services.task_delete(actor=actor, task=instance)


router = SimpleRouter()
router.register("activities", ActivityViewSet, basename="activity")
router.register("tasks", TaskViewSet, basename="task")
