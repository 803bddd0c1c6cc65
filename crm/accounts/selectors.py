"""Every read of the accounts app, scoped through core.access."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

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


AUTOCOMPLETE_LIMIT = 20
_NAME_FIELDS = ("first_name", "last_name", "username", "email")


def user_autocomplete(*, user: Any, query: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[User]:
    """Active colleagues for a people picker: every word typed is found in the first or last name,
    the username or the email (any case). Exact username or email first, then people whose names
    start with what was typed, then the rest, by name. Nothing typed: the person asking first.
    """
    terms = query.split()[:5]
    users = User.objects.filter(is_active=True)
    if terms:
        for term in terms:
            users = users.filter(_any_name(term, "icontains"))
        starts = Q()
        for term in terms:
            starts &= _any_name(term, "istartswith")
        rank = Case(
            When(Q(username__iexact=query.strip()) | Q(email__iexact=query.strip()), then=Value(0)),
            When(starts, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    else:
        rank = Case(When(pk=getattr(user, "pk", None), then=Value(0)), default=Value(1), output_field=IntegerField())
    ordered = users.annotate(rank=rank).order_by("rank", "first_name", "last_name", "username", "pk")
    fields = ("id", *_NAME_FIELDS)
    return list(ordered.only(*fields).prefetch_related("teams")[: max(0, min(limit, AUTOCOMPLETE_LIMIT))])


def _any_name(term: str, lookup: str) -> Q:
    condition = Q()
    for name in _NAME_FIELDS:
        condition |= Q(**{f"{name}__{lookup}": term})
    return condition


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
