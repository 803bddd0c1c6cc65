from __future__ import annotations

from rest_framework import serializers

from ..models import Job, JournalEntry, Notification


class JournalEntrySerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(source="id", read_only=True)
    record_type = serializers.CharField(source="content_type.model", read_only=True)
    app_label = serializers.CharField(source="content_type.app_label", read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "sequence", "timestamp", "actor", "actor_repr", "source", "action",
            "app_label", "record_type", "object_id", "object_repr", "changes",
        ]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "kind", "status", "progress", "message", "result", "error", "created_at", "started_at", "finished_at"]
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
