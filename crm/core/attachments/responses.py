"""Serving an attachment's bytes, for pages and API alike: streamed from storage, with the type decided
at upload (by content), the original name (RFC 6266 / RFC 5987 for names that are not ASCII), and
headers that keep the browser from running anything in it."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.http import FileResponse, Http404

from ..models import Attachment
from . import filetypes

# A preview is a document of its own: no scripts, no plugins, no forms, no same-origin access.
IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# Browsers show PDF in their own viewer, which needs to run inside the sandboxed document.
PDF_CSP = "default-src 'none'; img-src 'self' data: blob:; style-src 'unsafe-inline'; object-src 'self'; sandbox allow-scripts allow-downloads"
DOWNLOAD_CSP = "default-src 'none'; sandbox"

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()\[\]+,-]+")


def content_disposition(disposition: str, name: str) -> str:
    """``attachment; filename="report.pdf"``, with ``filename*=UTF-8''...`` when the name is not plain
    ASCII (合同.pdf), and an ASCII stand-in in ``filename`` for old clients."""
    extension = filetypes.extension_of(name)
    stem = name[: -len(extension) - 1] if extension else name
    ascii_stem = _UNSAFE_ASCII.sub("_", _ascii(stem)).strip(" ._")
    ascii_extension = _UNSAFE_ASCII.sub("", _ascii(name[len(stem) + 1 :])) if extension else ""
    fallback = (ascii_stem or "attachment") + (f".{ascii_extension}" if ascii_extension else "")
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def file_response(attachment: Attachment, *, inline: bool) -> FileResponse:
    """The file, to download (``inline=False``) or to show in the browser (images and PDF only)."""
    kind = filetypes.kind_for_mime(attachment.mime_type)
    if inline and (kind is None or not kind.preview):
        raise Http404
    try:
        stream = attachment.file.open("rb")
    except (OSError, ValueError):  # the file is gone from storage
        raise Http404 from None
    response = FileResponse(stream, content_type=attachment.mime_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition("inline" if inline else "attachment", attachment.name)
    if not response.has_header("Content-Length"):
        response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response["Content-Security-Policy"] = DOWNLOAD_CSP
    elif attachment.mime_type == "application/pdf":
        response["Content-Security-Policy"] = PDF_CSP
    else:
        response["Content-Security-Policy"] = IMAGE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-cache"
    response["ETag"] = f'"{attachment.sha256}"'
    return response
