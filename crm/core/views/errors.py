"""Friendly error pages (and JSON for the API)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# The same codes Django REST framework gives these statuses, so that a client sees one code for, say,
# an unknown URL and an unknown record.
_CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found", 429: "throttled", 500: "server_error"}


def _respond(
    request: HttpRequest,
    status: int,
    title: str,
    message: str,
    *,
    code: str = "",
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"detail": message, "code": code or _CODES.get(status, "error"), "errors": errors or {}}
        return JsonResponse(body, status=status)
    try:
        return render(request, "core/error.html", {"status": status, "title": title, "message": message}, status=status)
    except Exception:  # the database may be what failed: fall back to plain text
        return HttpResponse(f"{title}\n\n{message}", status=status, content_type="text/plain; charset=utf-8")


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return _("The request is too large (at most %(size)s).") % {"size": filesizeformat(limit)}


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return _respond(request, 400, _("Bad request"), too_large_message(), code="too_large")
    return _respond(
        request, 400, _("Bad request"), _("The request could not be understood. Check what you sent and try again.")
    )


def invalid_characters(request: HttpRequest, field: str = "") -> HttpResponse:
    """A NUL byte, a lone surrogate or bytes that are not UTF-8 in ``field`` (or somewhere unnamed)."""
    message = _("The request contains characters that are not allowed (a NUL byte or an invalid character).")
    errors = {field: [message]} if field else {}
    return _respond(request, 400, _("Bad request"), message, code="invalid_characters", errors=errors)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(
        request, 403, _("Not allowed"), _("Your role does not allow this. Ask an administrator if you need it.")
    )


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 404, _("Not found"), _("This page does not exist, or you do not have access to it."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _respond(
        request,
        500,
        _("Something went wrong"),
        _("The CRM could not finish this request. Nothing was changed; please try again in a moment."),
    )


def rate_limited(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(
        request, 429, _("Too many requests"), _("Too many requests from your address. Wait a minute and try again.")
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _respond(
        request,
        403,
        _("Form expired"),
        _("This form has expired or was sent from another site. Reload the page and try again."),
        code="csrf_failed",
    )
