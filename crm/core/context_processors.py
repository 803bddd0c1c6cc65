from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from . import access
from .registry import platform


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The sidebar: the modules' entries the user's role may view, the main ones grouped by module
    (in the order of each module's first entry) under the module's name."""
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
        entry["module"] = item.module
        (admin if item.section == "admin" else main).append(entry)
    groups: list[dict[str, Any]] = []
    for entry in main:
        if not groups or groups[-1]["module"] != entry["module"]:
            module = platform.modules.get(entry["module"])
            groups.append({"module": entry["module"], "label": module.label if module else "", "items": []})
        groups[-1]["items"].append(entry)
    return {"nav_main": main, "nav_groups": groups, "nav_admin": admin}
