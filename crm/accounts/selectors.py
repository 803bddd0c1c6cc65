"""Every read of the accounts app, scoped through core.access."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import ApiToken, Role, Team, User


def user_list(*, user: Any, query: str = "", action: str = "view") -> QuerySet[User]:
    users = User.objects.visible_to(user, action=action).select_related("role")
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    return users


def team_list(*, user: Any, action: str = "view") -> QuerySet[Team]:
    return (
        Team.objects.visible_to(user, action=action).select_related("manager").annotate(member_count=Count("members"))
    )


def role_list(*, user: Any, action: str = "view") -> QuerySet[Role]:
    return Role.objects.visible_to(user, action=action).annotate(user_count=Count("users"))


def token_list(*, user: Any) -> QuerySet[ApiToken]:
    """A person's own tokens: nobody else sees them, administrators included."""
    return ApiToken.objects.filter(user=user)


def assignable_users(*, user: Any) -> QuerySet[User]:
    """Active users that may be chosen as an owner or a team member."""
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


def user_search(*, user: Any, query: str, limit: int) -> list[Any]:
    """Colleagues by name, username or email, for the global search (administrators)."""
    from django.urls import reverse

    from crm.core.registry import SearchResult

    found = user_list(user=user, query=query).filter(is_active=True).order_by("username")[:limit]
    return [
        SearchResult(
            type_label="user",
            title=str(u),
            subtitle=u.email,
            url=reverse("accounts:user_edit", args=[u.pk]),
            score=2.0 if query.lower() in {u.username.lower(), u.email.lower()} else 1.0,
        )
        for u in found
    ]
