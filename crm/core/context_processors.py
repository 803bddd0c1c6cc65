from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from . import access
from .registry import platform


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The sidebar: the modules' entries the user's role may view."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    main: list[dict[str, Any]] = []
    admin: list[dict[str, Any]] = []
    for item in platform.nav:
        if not access.can(user, item.module, "view"):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        entry = {
            "label": item.label,
            "url": url,
            "icon": item.icon,
            "active": request.path.startswith(url) and url != "/",
        }
        (admin if item.section == "admin" else main).append(entry)
    return {"nav_main": main, "nav_admin": admin}
