from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class UsernameOrEmailBackend(ModelBackend):
    """Sign in with username or email (case-insensitive). An unknown user costs the same password
    hashing as a wrong password, so the two cannot be told apart by timing."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        if not username or password is None:
            return None
        User = get_user_model()
        login = username.strip()
        user = (
            User._default_manager.select_related("role")
            .filter(Q(username__iexact=login) | (Q(email__iexact=login) & ~Q(email="")))
            .order_by("pk")
            .first()
        )
        if user is None:
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        user = User._default_manager.select_related("role").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
