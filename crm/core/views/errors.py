"""Friendly error pages (and JSON for the API)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _respond(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": str(status), "errors": {}}, status=status)
    try:
        return render(request, "core/error.html", {"status": status, "title": title, "message": message}, status=status)
    except Exception:  # the database may be what failed: fall back to plain text
        return HttpResponse(f"{title}\n\n{message}", status=status, content_type="text/plain; charset=utf-8")


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 400, _("Bad request"), _("The request could not be understood. Check what you sent and try again."))


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 403, _("Not allowed"), _("Your role does not allow this. Ask an administrator if you need it."))


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 404, _("Not found"), _("This page does not exist, or you do not have access to it."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _respond(
        request, 500, _("Something went wrong"), _("The CRM could not finish this request. Nothing was changed; please try again in a moment.")
    )


def rate_limited(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 429, _("Too many requests"), _("Too many requests from your address. Wait a minute and try again."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _respond(
        request, 403, _("Form expired"), _("This form has expired or was sent from another site. Reload the page and try again.")
    )
