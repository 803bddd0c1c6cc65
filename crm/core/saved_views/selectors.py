"""Every read of saved views: a person sees their own views and those shared with any of their teams."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from ..models import SavedView


def _visible(user: Any) -> Q:
    team_ids = user.team_ids()
    shared = Q(team_id__in=team_ids) if team_ids else Q(pk__in=[])
    return Q(owner_id=user.pk) | shared


def saved_view_list(*, user: Any, list_key: str | None = None) -> QuerySet[SavedView]:
    """Views the user may apply (their own, then those shared with their teams), by name."""
    if not getattr(user, "is_authenticated", False):
        return SavedView.objects.none()
    views = SavedView.objects.filter(_visible(user))
    if list_key is not None:
        views = views.filter(list_key=list_key)
    mine = Case(When(owner_id=user.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    return views.select_related("owner", "team").annotate(shared=mine).order_by("shared", "name", "id")


def saved_view_get(*, user: Any, pk: Any) -> SavedView | None:
    """A view the user may apply, or ``None`` (someone else's private view does not exist for them)."""
    try:
        return saved_view_list(user=user).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def saved_view_owned(*, user: Any, list_key: str | None = None) -> QuerySet[SavedView]:
    """The user's own views: the only ones they may rename, share or delete."""
    if not getattr(user, "is_authenticated", False):
        return SavedView.objects.none()
    views = SavedView.objects.filter(owner_id=user.pk).select_related("team")
    if list_key is not None:
        views = views.filter(list_key=list_key)
    return views.order_by("list_key", "name", "id")


def saved_view_owned_get(*, user: Any, pk: Any) -> SavedView | None:
    try:
        return saved_view_owned(user=user).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def share_team_choices(*, user: Any) -> list[tuple[int, str]]:
    """The teams a user may share a view with: their own, by name."""
    team_ids = user.team_ids()
    if not team_ids:
        return []
    team_model = SavedView._meta.get_field("team").related_model
    return list(team_model._default_manager.filter(pk__in=team_ids).order_by("name").values_list("pk", "name"))  # type: ignore[union-attr]
