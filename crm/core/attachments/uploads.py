"""Refusing an attachment that is too big while it arrives, not after it was stored whole.

``AttachmentUploadHandler`` goes first in ``FILE_UPLOAD_HANDLERS``. On the attachment upload URLs
(page and API) it

- refuses, without reading the body, a request whose declared length is beyond what an upload of
  ``MAX_FILES`` files at the limit can be;
- stops keeping a file as soon as it passes ``ATTACHMENT_MAX_BYTES`` (the rest of the request is
  drained and dropped, so the browser still receives the answer), and the upload is refused.

The view reads what happened with ``refusal(request)``. Elsewhere the handler does nothing. The
service checks the size again, so the limit holds without the handler too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from .filetypes import max_bytes, too_big_message
from .services import MAX_FILES, FileOutcome, held_message

UPLOAD_VIEWS = frozenset({"core:attachment_upload", "core-api:attachment-list"})
FORM_ALLOWANCE = 1024 * 1024  # the form fields and multipart framing around the files
_ATTRIBUTE = "_attachment_upload_refusal"


@dataclass
class Refusal:
    whole_request: bool = False
    oversized: list[str] = field(default_factory=list)


def refusal(request: Any) -> Refusal | None:
    """What the handler refused in this request (``None``: nothing)."""
    return getattr(getattr(request, "_request", request), _ATTRIBUTE, None)


def refused_outcomes(refusal: Refusal, files: list[Any]) -> list[FileOutcome]:
    """What to tell the person whose upload the handler stopped (nothing was stored)."""
    if refusal.whole_request:
        message = _(
            "The upload is too large: at most %(count)d files of up to %(limit)s each. Nothing was uploaded."
        ) % {"count": MAX_FILES, "limit": filesizeformat(max_bytes())}
        return [FileOutcome(name="", errors=[message])]
    outcomes = [FileOutcome(name=name, errors=[too_big_message(name)]) for name in refusal.oversized]
    outcomes += [FileOutcome(name=str(upload.name), errors=[held_message(str(upload.name))]) for upload in files]
    return outcomes


def request_limit() -> int:
    return max_bytes() * MAX_FILES + FORM_ALLOWANCE


def is_attachment_upload(request: Any) -> bool:
    if request is None or request.method != "POST":
        return False
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return match.view_name in UPLOAD_VIEWS


class AttachmentUploadHandler(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.active = False
        self.limit = max_bytes()
        self.received = 0

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        self.active = is_attachment_upload(self.request)
        if self.active and content_length > request_limit():
            self._refusal().whole_request = True
            return QueryDict(encoding=encoding), MultiValueDict()  # nothing read
        return None

    def new_file(
        self, field_name: str, file_name: str, content_type: str, content_length: int | None, *args: Any, **kwargs: Any
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        self.received = 0
        if self.active and content_length is not None and content_length > self.limit:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.active:
            self.received += len(raw_data)
            if self.received > self.limit:
                self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _stop(self) -> None:
        self._refusal().oversized.append(str(self.file_name))
        raise StopUpload(connection_reset=False)

    def _refusal(self) -> Refusal:
        found = getattr(self.request, _ATTRIBUTE, None)
        if found is None:
            found = Refusal()
            setattr(self.request, _ATTRIBUTE, found)
        return found
