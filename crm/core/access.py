"""The one place that decides what a user may see and do.

Every list, detail, search, export, report and API endpoint scopes its queryset here. A record
outside the user's scope is simply absent (callers answer 404), so nothing leaks through a count,
a search hit or an export.

A model names the module whose permissions apply (``access_module``) and, when its owner and team
are not in fields called ``owner`` and ``team``, where they are (``access_owner_field``,
``access_team_field``). A row that belongs to other records (an activity of a contact or company)
names them in ``access_via``: it is visible to its own owner and to whoever may see any of them.

The user model (``crm.accounts``) provides ``has_module_perm(module, action)``, ``data_scope``
and ``scope_member_ids()`` / ``team_ids()``; core knows nothing else of it.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.db import models
from django.db.models import Q

from .choices import DataScope

M = TypeVar("M", bound=models.Model)


class AccessUser(Protocol):
    pk: Any
    is_authenticated: bool
    is_active: bool
    is_superuser: bool

    def has_module_perm(self, module: str, action: str) -> bool: ...
    def get_data_scope(self) -> str: ...
    def team_ids(self) -> list[int]: ...
    def team_member_ids(self) -> list[int]: ...


def can(user: Any, module: str, action: str) -> bool:
    """May this user do ``action`` (view, create, edit, delete, export) in ``module`` at all?"""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.has_module_perm(module, action))


def data_scope(user: Any) -> str:
    if user.is_superuser:
        return DataScope.ALL
    return str(user.get_data_scope())


def scope_filter(model: type[models.Model], user: Any) -> Q | None:
    """The filter that limits ``model`` to the user's data scope; ``None`` means everything."""
    scope = data_scope(user)
    if scope == DataScope.ALL:
        return None
    related = getattr(model, "access_via", ())
    if related:
        # A row that belongs to other records (an activity of a contact) is visible with any of them,
        # or to its own owner.
        condition = _scope_q(user, scope, "owner", "team")
        for path in related:
            condition |= _scope_q(user, scope, f"{path}__owner", f"{path}__team")
        return condition
    owner_field = getattr(model, "access_owner_field", "owner")
    team_field = getattr(model, "access_team_field", "team")
    return _scope_q(user, scope, owner_field, team_field)


def _scope_q(user: Any, scope: str, owner_path: str, team_path: str) -> Q:
    own = Q(**{owner_path: user.pk})
    if scope == DataScope.OWN:
        return own
    team_ids, member_ids = user.team_ids(), user.team_member_ids()
    team_q = Q(**{f"{team_path}__in": team_ids}) if team_ids else Q(pk__in=[])
    members_q = Q(**{f"{owner_path}__in": member_ids}) if member_ids else Q(pk__in=[])
    return own | team_q | members_q


def scope_queryset(queryset: models.QuerySet[M], user: Any, *, action: str = "view") -> models.QuerySet[M]:
    """Limit ``queryset`` to the rows ``user`` may ``action``; empty when the role lacks the permission."""
    model = queryset.model
    module = getattr(model, "access_module", "")
    if not module:
        raise TypeError(f"{model.__name__} declares no access_module; it cannot be scoped.")
    if not can(user, module, action):
        return queryset.none()
    if not getattr(model, "access_data_scoped", True):
        return queryset  # e.g. teams and roles: the module permission is the whole rule
    condition = scope_filter(model, user)
    return queryset if condition is None else queryset.filter(condition)


def can_access_object(user: Any, obj: models.Model, *, action: str = "view") -> bool:
    """Is this single row inside the user's scope for ``action``?"""
    manager = type(obj)._default_manager
    return scope_queryset(manager.filter(pk=obj.pk), user, action=action).exists()
