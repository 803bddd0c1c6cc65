"""What an uploaded file really is, decided by its content, never by its name or the browser's word.

One pass over the file (in chunks, never whole in memory) measures it, hashes it and tells text from
binary data; the ``filetype`` library names binary formats by their signatures; ZIP-based documents
are told apart by their table of contents (stdlib ``zipfile``, which reads only the directory);
images are checked for a sound header (``images``). The extension must then agree with the content.

Accepted: PDF, PNG, JPEG, GIF, WebP, plain text and CSV/TSV, Word, Excel and PowerPoint
(.docx, .xlsx, .pptx), OpenDocument (.odt, .ods, .odp) and ZIP. Refused whatever they are called:
HTML, SVG and XML (they can carry scripts), programs, Office files with macros, everything else.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import images

CHUNK_SIZE = 64 * 1024
HEAD_SIZE = 8192
NAME_MAX = 255

# Bytes that never occur in text (tab, line breaks, form feed, escape and Ctrl-Z do).
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0e-\x19\x1c-\x1f]")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1c-\x1f]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class FileKind:
    key: str
    label: Promise  # "a PDF document": reads well in "its content is ..."
    mime_type: str
    extensions: tuple[str, ...]
    icon: str
    preview: bool = False  # shown by the browser itself (images, PDF)


_KINDS = (
    FileKind("pdf", gettext_lazy("a PDF document"), "application/pdf", ("pdf",), "ti-file-type-pdf", True),
    FileKind("png", gettext_lazy("a PNG image"), "image/png", ("png",), "ti-photo", True),
    FileKind("jpeg", gettext_lazy("a JPEG image"), "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"), "ti-photo", True),
    FileKind("gif", gettext_lazy("a GIF image"), "image/gif", ("gif",), "ti-photo", True),
    FileKind("webp", gettext_lazy("a WebP image"), "image/webp", ("webp",), "ti-photo", True),
    FileKind("text", gettext_lazy("plain text"), "text/plain", ("txt", "text", "log", "md"), "ti-file-text"),
    FileKind("csv", gettext_lazy("a CSV table"), "text/csv", ("csv",), "ti-file-type-csv"),
    FileKind("tsv", gettext_lazy("a tab-separated table"), "text/tab-separated-values", ("tsv",), "ti-file-type-csv"),
    FileKind(
        "docx",
        gettext_lazy("a Word document"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        "ti-file-type-docx",
    ),
    FileKind(
        "xlsx",
        gettext_lazy("an Excel workbook"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
        "ti-file-spreadsheet",
    ),
    FileKind(
        "pptx",
        gettext_lazy("a PowerPoint presentation"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
        "ti-presentation",
    ),
    FileKind(
        "odt",
        gettext_lazy("an OpenDocument text"),
        "application/vnd.oasis.opendocument.text",
        ("odt",),
        "ti-file-text",
    ),
    FileKind(
        "ods",
        gettext_lazy("an OpenDocument spreadsheet"),
        "application/vnd.oasis.opendocument.spreadsheet",
        ("ods",),
        "ti-file-spreadsheet",
    ),
    FileKind(
        "odp",
        gettext_lazy("an OpenDocument presentation"),
        "application/vnd.oasis.opendocument.presentation",
        ("odp",),
        "ti-presentation",
    ),
    FileKind("zip", gettext_lazy("a ZIP archive"), "application/zip", ("zip",), "ti-file-zip"),
)
KINDS: dict[str, FileKind] = {kind.key: kind for kind in _KINDS}
KINDS_BY_MIME: dict[str, FileKind] = {kind.mime_type: kind for kind in _KINDS}
KIND_BY_EXTENSION: dict[str, FileKind] = {ext: kind for kind in _KINDS for ext in kind.extensions}
TEXT_KINDS = ("text", "csv", "tsv")
ACCEPTED_EXTENSIONS: tuple[str, ...] = tuple(f".{ext}" for kind in _KINDS for ext in kind.extensions)
DEFAULT_ICON = "ti-file"

# What a refused extension claims to be (for "it says it is X but its content is Y").
_REFUSED_EXTENSIONS: dict[str, Promise] = {
    **dict.fromkeys(("html", "htm", "xhtml", "shtml"), gettext_lazy("an HTML page")),
    "svg": gettext_lazy("an SVG image"),
    "xml": gettext_lazy("an XML document"),
    **dict.fromkeys(("exe", "msi", "dll", "com", "scr"), gettext_lazy("a Windows program")),
    **dict.fromkeys(("bat", "cmd", "ps1", "sh", "js", "vbs"), gettext_lazy("a script")),
    **dict.fromkeys(("doc", "xls", "ppt"), gettext_lazy("an old-format Office file")),
    **dict.fromkeys(("docm", "xlsm", "pptm"), gettext_lazy("an Office file with macros")),
}

_MARKUP: dict[str, Promise] = {
    "html": gettext_lazy("an HTML page"),
    "svg": gettext_lazy("an SVG image, which can carry scripts"),
    "xml": gettext_lazy("an XML document"),
}

_OPEN_DOCUMENT = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
_OOXML_FOLDERS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))


def accepted_text() -> str:
    return _(
        "Accepted: PDF, images (PNG, JPEG, GIF, WebP), text and CSV, Word, Excel and PowerPoint "
        "(.docx, .xlsx, .pptx), OpenDocument (.odt, .ods, .odp) and ZIP files."
    )


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024))


def too_big_message(name: str, limit: int | None = None) -> str:
    return _("“%(name)s” is larger than the limit of %(limit)s.") % {
        "name": name,
        "limit": filesizeformat(max_bytes() if limit is None else limit),
    }


def kind_for_mime(mime_type: str) -> FileKind | None:
    return KINDS_BY_MIME.get(mime_type)


def clean_name(raw: Any) -> str:
    """The name to show and to offer on download: the last part of any path, printable characters
    only (no control or direction-changing characters), at most 255 characters with its extension."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    if name in {"", ".", ".."}:
        return ""
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = stem[: NAME_MAX - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:NAME_MAX]
    return name


def extension_of(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem.strip(".") else ""


@dataclass(frozen=True)
class Inspected:
    """A file that passed every check, ready to store."""

    name: str
    kind: FileKind
    size: int
    sha256: str


class _Measured:
    size = 0
    sha256 = ""
    head = b""
    binary = False


def inspect(fileobj: Any, *, name: Any = None) -> Inspected:
    """Check one file (a Django ``File`` or an open binary file) and say what it is, or raise a
    ``ValidationError`` whose message names the file and what is wrong with it."""
    shown = clean_name(name if name is not None else getattr(fileobj, "name", ""))
    if not shown:
        raise ValidationError(_("The file has no name."), code="no_name")
    limit = max_bytes()
    declared = getattr(fileobj, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise ValidationError(too_big_message(shown, limit), code="too_big")
    stream = _binary(fileobj)
    measured = _measure(stream, shown, limit)
    if measured.size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": shown}, code="empty")
    try:
        content, refused = _content_kind(stream, measured)
    except _Damaged as damaged:
        raise _damaged(shown, damaged.label) from None
    extension = extension_of(shown)
    if refused is not None:
        claimed = KIND_BY_EXTENSION.get(extension)
        if claimed is not None:
            raise _lie(shown, claimed.label, refused)
        raise ValidationError(
            _("“%(name)s” cannot be attached: its content is %(actual)s. %(accepted)s")
            % {"name": shown, "actual": refused, "accepted": accepted_text()},
            code="refused_type",
        )
    assert content is not None
    if content.key in TEXT_KINDS:
        claimed = KIND_BY_EXTENSION.get(extension)
        if claimed is not None and claimed.key in TEXT_KINDS:
            content = claimed
    if extension not in content.extensions:
        if not extension:
            raise ValidationError(
                _("“%(name)s” has no extension: name it after its type (its content is %(actual)s).")
                % {"name": shown, "actual": content.label},
                code="no_extension",
            )
        claimed_label = _claimed_label(extension)
        raise _lie(shown, claimed_label, content.label)
    if not images.header_ok(stream, content.key, measured.head, measured.size):
        raise _damaged(shown, content.label)
    return Inspected(name=shown, kind=content, size=measured.size, sha256=measured.sha256)


class _Damaged(Exception):
    def __init__(self, label: Any) -> None:
        super().__init__(str(label))
        self.label = label


def _damaged(name: str, label: Any) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is damaged or incomplete: it cannot be read as %(kind)s.") % {"name": name, "kind": label},
        code="damaged",
    )


def _lie(name: str, claimed: Any, actual: Any) -> ValidationError:
    return ValidationError(
        _("“%(name)s” says it is %(claimed)s but its content is %(actual)s.")
        % {"name": name, "claimed": claimed, "actual": actual},
        code="type_mismatch",
    )


def _claimed_label(extension: str) -> Any:
    kind = KIND_BY_EXTENSION.get(extension)
    if kind is not None:
        return kind.label
    return _REFUSED_EXTENSIONS.get(extension) or _("a .%(extension)s file") % {"extension": extension}


def _binary(fileobj: Any) -> IO[bytes]:
    """The seekable binary stream behind a Django ``File`` (or the stream itself), at its start."""
    inner = getattr(fileobj, "file", None)
    stream = inner if inner is not None else fileobj
    stream.seek(0)
    return stream  # type: ignore[no-any-return]


def _measure(stream: IO[bytes], name: str, limit: int) -> _Measured:
    """Size, SHA-256, the first bytes and whether it is binary, in one pass of bounded memory.
    Stops as soon as the file passes the limit."""
    result = _Measured()
    digest = hashlib.sha256()
    decoder: Any = None
    stream.seek(0)
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            break
        result.size += len(chunk)
        if result.size > limit:
            raise ValidationError(too_big_message(name, limit), code="too_big")
        digest.update(chunk)
        if len(result.head) < HEAD_SIZE:
            result.head += chunk[: HEAD_SIZE - len(result.head)]
            if decoder is None and len(result.head) >= 2 and result.head[:2] in _UTF16_BOMS:
                decoder = codecs.getincrementaldecoder("utf-16")(errors="strict")
        if result.binary:
            continue
        if decoder is not None:
            try:
                result.binary = _CONTROL_CHARS.search(decoder.decode(chunk)) is not None
            except UnicodeDecodeError:
                result.binary = True
        else:
            result.binary = _CONTROL_BYTES.search(chunk) is not None
    if decoder is not None and not result.binary:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            result.binary = True
    result.sha256 = digest.hexdigest()
    stream.seek(0)
    return result


def _content_kind(stream: IO[bytes], measured: _Measured) -> tuple[FileKind | None, Any]:
    """``(accepted kind, None)`` or ``(None, label of the refused content)``."""
    head = measured.head
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"], None
    if not measured.binary:
        markup = _markup(head)
        if markup:
            return None, _MARKUP[markup]
        return KINDS["text"], None
    guess = filetype.guess(head)
    mime = guess.mime if guess is not None else ""
    if mime == "image/apng":
        mime = "image/png"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(stream)
    kind = KINDS_BY_MIME.get(mime)
    if kind is not None and kind.key not in TEXT_KINDS:
        return kind, None
    if guess is None:
        if b"%PDF-" in head[:1024]:  # readers accept a few bytes of junk before the header
            return KINDS["pdf"], None
        return None, _("binary data of an unknown type")
    return None, _describe(guess)


def _describe(guess: Any) -> Any:
    """A readable name of a refused format found by ``filetype``."""
    mime, extension = str(guess.mime), str(guess.extension)
    shown = extension.upper()
    if mime == "application/x-msdownload":
        return _("a Windows program")
    if mime == "application/x-executable":
        return _("a program (ELF)")
    if extension in {"doc", "xls", "ppt"}:
        return _("an old-format Office file (.%(extension)s)") % {"extension": extension}
    if mime.startswith("image/"):
        return _("a %(format)s image") % {"format": shown}
    if mime.startswith("video/"):
        return _("a %(format)s video") % {"format": shown}
    if mime.startswith("audio/"):
        return _("a %(format)s audio file") % {"format": shown}
    if mime.startswith("font/") or "font" in mime:
        return _("a font")
    return _("a %(format)s file") % {"format": shown}


def _markup(head: bytes) -> str:
    """``"html"``, ``"svg"`` or ``"xml"`` when text starts like markup (which a browser might run)."""
    text = head.decode("utf-16", errors="ignore") if head[:2] in _UTF16_BOMS else head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff \t\r\n\f\v").lower()
    if not text.startswith("<"):
        return ""
    if "<svg" in text:
        return "svg"
    if text.startswith("<?xml") and "<html" not in text:
        return "xml"
    return "html"


def _zip_kind(stream: IO[bytes]) -> tuple[FileKind | None, Any]:
    """Office and OpenDocument files are ZIP archives: their table of contents says which."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                key = _OPEN_DOCUMENT.get(archive.read(info).strip()) if info.file_size <= 200 else None
                if key:
                    return KINDS[key], None
            if "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    return None, _("an Office file with macros")
                for folder, key in _OOXML_FOLDERS:
                    if any(name.startswith(folder) for name in names):
                        return KINDS[key], None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, KeyError):
        raise _Damaged(KINDS["zip"].label) from None
    finally:
        stream.seek(0)
    return KINDS["zip"], None
