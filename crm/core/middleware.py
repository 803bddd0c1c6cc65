"""Request-level infrastructure: request ids, the journal's change context, refusal of bad input."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from . import context
from .choices import ChangeSource

# NUL bytes and lone surrogates are never meaningful text; databases reject or mangle them.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if re.fullmatch(r"[A-Za-z0-9-]{8,64}", incoming) else context.new_request_id()  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class RejectBadInputMiddleware:
    """Answer 400 to a NUL byte or a lone surrogate in the path, the query string or a form field."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._is_bad(request):
            message = _("The request contains characters that are not allowed (a NUL byte or an invalid character).")
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse({"detail": message, "code": "invalid_characters"}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

    @staticmethod
    def _is_bad(request: HttpRequest) -> bool:
        if _BAD_TEXT.search(request.path):
            return True
        for key, values in request.GET.lists():
            if _BAD_TEXT.search(key) or any(_BAD_TEXT.search(v) for v in values):
                return True
        content_type = request.content_type or ""
        if request.method in {"POST", "PUT", "PATCH"} and content_type in {
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        }:
            for key, values in request.POST.lists():
                if _BAD_TEXT.search(key) or any(_BAD_TEXT.search(v) for v in values):
                    return True
        return False


class JournalContextMiddleware:
    """Every change made while serving a request is journaled with its user and path (web or admin).

    API views refine the path to "api" and set the token's user once DRF has authenticated.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = ChangeSource.ADMIN if request.path.startswith("/admin/") else ChangeSource.WEB
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with context.change_context(actor=actor, source=source, request_id=getattr(request, "request_id", "")):
            return self.get_response(request)
