from __future__ import annotations

from rest_framework import serializers

from crm.core.api.serializers import StrictFieldsMixin

from ..models import ApiToken, Role, Team, User


class RoleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A role: per-module permissions and a data scope."""

    class Meta:
        model = Role
        fields = ["id", "name", "builtin", "description", "permissions", "data_scope", "require_two_factor", "version"]
        read_only_fields = ["id", "builtin", "version"]


class TeamSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A team: its members and manager."""

    class Meta:
        model = Team
        fields = ["id", "name", "description", "manager", "members", "version"]
        read_only_fields = ["id", "version"]


class UserSerializer(serializers.ModelSerializer):
    role = serializers.PrimaryKeyRelatedField(read_only=True)
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "teams",
            "is_active",
            "is_away",
            "language",
            "time_zone",
            "date_joined",
            "version",
        ]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    pass


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "hint", "read_only", "expires_at", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields
