"""Request-level infrastructure: request ids, the journal's change context, refusal of bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse

from . import context
from .choices import ChangeSource
from .crypto import masking

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
    """Answer 400 to a NUL byte or a lone surrogate in the path, the query string or a form field,
    and to percent-encoded bytes there that are not UTF-8 (which Django would otherwise turn into
    U+FFFD replacement characters without a word)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = self._find_bad(request)
        if bad is not None:
            from .views.errors import invalid_characters

            return invalid_characters(request, field=bad)
        return self.get_response(request)

    @staticmethod
    def _find_bad(request: HttpRequest) -> str | None:
        """The name of the first parameter or field with bad text ("" when it has no usable name),
        or ``None`` when the request is clean."""
        if has_bad_text(request.path):
            return ""
        bad = _bad_urlencoded(_wsgi_bytes(request.META.get("QUERY_STRING", "")))
        if bad is not None:
            return bad
        if request.method not in {"POST", "PUT", "PATCH"}:
            return None
        content_type = request.content_type or ""
        if content_type == "application/x-www-form-urlencoded":
            if request.method == "POST":
                request.POST  # noqa: B018 - parse first: refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE
            return _bad_urlencoded(request.body)
        if content_type == "multipart/form-data" and request.method == "POST":
            # Django decodes multipart fields with errors="replace": broken bytes arrive as U+FFFD.
            for key, values in request.POST.lists():
                if has_bad_text(key) or "\ufffd" in key:
                    return ""
                if any(has_bad_text(v) or "\ufffd" in v for v in values):
                    return key
        return None


def has_bad_text(text: str) -> bool:
    """Whether ``text`` holds a NUL byte or a lone surrogate."""
    return _BAD_TEXT.search(text) is not None


def _wsgi_bytes(text: str) -> bytes:
    try:
        return text.encode("iso-8859-1")  # WSGI carries the raw bytes as latin-1 text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _decode_form_part(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")


def _bad_urlencoded(raw: bytes) -> str | None:
    """Like ``RejectBadInputMiddleware._find_bad`` for a query string or a urlencoded body."""
    for pair in raw.split(b"&"):
        if not pair:
            continue
        raw_key, _sep, raw_value = pair.partition(b"=")
        try:
            key = _decode_form_part(raw_key)
        except UnicodeDecodeError:
            return ""
        if has_bad_text(key):
            return ""
        try:
            value = _decode_form_part(raw_value)
        except UnicodeDecodeError:
            return key
        if has_bad_text(value):
            return key
    return None


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
        with context.change_context(
            actor=actor, source=source, request_id=getattr(request, "request_id", ""), viewer=user
        ):
            reads = masking.start_collecting()
            try:
                return self.get_response(request)
            finally:
                masking.flush_reads(reads)  # who saw which sensitive values, in the audit log
