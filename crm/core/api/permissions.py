from __future__ import annotations

from typing import Any

from rest_framework import permissions

from .. import access

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "edit",
    "PATCH": "edit",
    "DELETE": "delete",
}


class ModulePermission(permissions.BasePermission):
    """Authenticated, the role grants the view's module the action the method implies, and a
    read-only token is used only for reads. Views without a module only need authentication."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        token = getattr(request, "auth", None)
        if getattr(token, "read_only", False) and request.method not in permissions.SAFE_METHODS:
            return False
        module = getattr(view, "module", None)
        if not module:
            return True
        action = getattr(view, "action_permissions", {}).get(getattr(view, "action", None)) or METHOD_ACTIONS.get(
            request.method, "view"
        )
        return access.can(user, module, action)
