from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Case, Q, Value, When


def user_for_login(login: str) -> Any:
    """The account a sign-in name designates: the one with that username, else the one with that
    email address (both case-insensitive)."""
    login = login.strip()
    if not login:
        return None
    by_username = Q(username__iexact=login)
    return (
        get_user_model()
        ._default_manager.select_related("role")
        .filter(by_username | (Q(email__iexact=login) & ~Q(email="")))
        .order_by(Case(When(by_username, then=Value(0)), default=Value(1)), "pk")
        .first()
    )


class UsernameOrEmailBackend(ModelBackend):
    """Sign in with username or email (case-insensitive). An unknown user costs the same password
    hashing as a wrong password, so the two cannot be told apart by timing."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if not username or password is None:
            return None
        user = user_for_login(username)
        if user is None:
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        user = User._default_manager.select_related("role").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
