"""The one htmx convention: a view renders its full page, or just its fragment when htmx asks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def wants_fragment(request: HttpRequest) -> bool:
    htmx: Any = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, fragment: str | None = None, status: int = 200
) -> HttpResponse:
    """Render ``fragment`` (a template in ``partials/``) for htmx requests, ``template`` otherwise."""
    name = fragment if fragment and wants_fragment(request) else template
    return render(request, name, context, status=status)
