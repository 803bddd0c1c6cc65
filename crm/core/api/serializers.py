from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.settings import api_settings

from ..models import Job, JournalEntry, Notification


class JournalEntrySerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(source="id", read_only=True)
    record_type = serializers.CharField(source="content_type.model", read_only=True)
    app_label = serializers.CharField(source="content_type.app_label", read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "sequence",
            "timestamp",
            "actor",
            "actor_repr",
            "source",
            "action",
            "app_label",
            "record_type",
            "object_id",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "created_at", "read_at"]
        read_only_fields = fields


class SearchResultSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField()
    score = serializers.FloatField()


class StrictFieldsMixin:
    """Refuse input keys a serializer would otherwise drop without a word: names it does not know
    and read-only fields. Each refused key gets its own field error (400), next to any other.

    ``version`` (listed in ``update_control_fields``) is the token of the edit-conflict check: the
    viewset reads it from the body of an update, so it is accepted there; on create it is refused
    like any other read-only field.

    Use it first among the bases: ``class DealSerializer(StrictFieldsMixin, serializers.ModelSerializer)``.
    """

    update_control_fields: tuple[str, ...] = ("version",)

    def to_internal_value(self, data: Any) -> Any:
        refused = self.refused_keys(data)
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if not refused:
                raise
            detail = exc.detail if isinstance(exc.detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
            raise serializers.ValidationError({**detail, **refused}) from None
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def refused_keys(self, data: Any) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}  # the serializer itself says what it expected
        fields = self.fields  # type: ignore[attr-defined]
        updating = getattr(self, "instance", None) is not None
        refused: dict[str, list[str]] = {}
        for key in data:
            field = fields.get(key)
            if field is None:
                if updating and key in self.update_control_fields:
                    continue
                refused[str(key)] = [_("Unknown field: it cannot be set here.")]
            elif field.read_only or isinstance(field, serializers.HiddenField):
                if updating and key in self.update_control_fields:
                    continue
                refused[str(key)] = [_("This field is read-only: it cannot be set.")]
        return refused


class SensitiveFieldsMixin:
    """Masks ``sensitive_fields`` in responses for a caller whose role may not view sensitive fields,
    and notes the reads of those who may (audit log). Writing them is not affected.

    ``sensitive_owner`` names the record the values belong to (a contact's phone row: the contact)."""

    sensitive_fields: tuple[str, ...] = ()

    def sensitive_owner(self, instance: Any) -> tuple[Any, Any]:
        return type(instance), instance.pk

    def to_representation(self, instance: Any) -> Any:
        from crm.core.crypto import masking

        data = super().to_representation(instance)  # type: ignore[misc]
        model, pk = self.sensitive_owner(instance)
        for name in self.sensitive_fields:
            if name in data:
                data[name] = masking.shown_of(model, pk, data[name])
        return data
