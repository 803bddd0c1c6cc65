"""Reading an uploaded spreadsheet: what kind of file it is, its encoding, and its rows, streamed.

A file that cannot be read as a whole (empty, not a spreadsheet, an unknown encoding, broken
quotes) raises ``ImportFileError`` with a message for the person; nothing is imported from it.
Problems of single rows are the importer's business, not this module's.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

CHUNK = 1 << 20
MAX_COLUMNS = 200
DELIMITERS = (",", ";", "\t", "|")

# Signatures of files people upload by mistake, and what to call them (other binary files are
# recognised by their many control bytes).
_SIGNATURES: tuple[tuple[bytes, Any], ...] = (
    (b"\x89PNG\r\n\x1a\n", _lazy("PNG image")),
    (b"\xff\xd8\xff", _lazy("JPEG image")),
    (b"GIF87a", _lazy("GIF image")),
    (b"GIF89a", _lazy("GIF image")),
    (b"%PDF-", _lazy("PDF document")),
    (b"\x1f\x8b", _lazy("gzip archive")),
    (b"Rar!", _lazy("RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _lazy("7-Zip archive")),
    (b"\x7fELF", _lazy("program")),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportFileError(Exception):
    """The file cannot be imported at all; ``str(error)`` says why, for the person who uploaded it."""


@dataclass(frozen=True)
class FileInfo:
    kind: str  # "csv", "xlsx" or "vcard"
    encoding: str = ""
    delimiter: str = ","
    skip_lines: int = 0  # an Excel "sep=;" line before the header

    def as_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FileInfo:
        return cls(
            kind=str(params.get("kind", "csv")),
            encoding=str(params.get("encoding", "")),
            delimiter=str(params.get("delimiter", ",")),
            skip_lines=int(params.get("skip_lines", 0)),
        )

    @property
    def encoding_label(self) -> str:
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GBK / GB18030", "utf-16": "UTF-16"}.get(
            self.encoding, self.encoding
        )


def max_rows() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_ROWS", 1_000_000))


def max_bytes() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_BYTES", 200 * 1024 * 1024))


def binary(fileobj: Any) -> IO[bytes]:
    """The binary stream behind a Django ``File`` (or the object itself), at its start."""
    stream = getattr(fileobj, "file", fileobj)
    stream.seek(0)
    return stream  # type: ignore[no-any-return]


# --- what is this file? -----------------------------------------------------------------------------


def inspect_file(fileobj: Any, *, expect: str = "table") -> FileInfo:
    """Recognise a CSV, XLSX or vCard file, or raise ``ImportFileError`` saying what it is instead.

    ``expect`` is ``"table"`` (CSV or XLSX) or ``"vcard"``.
    """
    stream = binary(fileobj)
    head = stream.read(8192)
    stream.seek(0)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        return _inspect_zip(stream, expect)
    if head.startswith(_OLE):
        raise ImportFileError(
            _("This is an old Excel file (.xls), which cannot be read. Save it as .xlsx or CSV and try again.")
        )
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise ImportFileError(_not_a_spreadsheet(expect, what))
    encoding = _detect_encoding(stream, head)
    stream.seek(0)
    sample = _decoded_sample(stream, encoding)
    stream.seek(0)
    if sample.lstrip().upper().startswith("BEGIN:VCARD"):
        if expect != "vcard":
            raise ImportFileError(_("This is a vCard file: use “Import vCards” instead."))
        return FileInfo(kind="vcard", encoding=encoding)
    if expect == "vcard":
        raise ImportFileError(_("This is not a vCard file: it must start with BEGIN:VCARD."))
    if sample.lstrip().startswith("<"):
        raise ImportFileError(_not_a_spreadsheet(expect, _lazy("HTML or XML document")))
    delimiter, skip = _detect_delimiter(sample)
    return FileInfo(kind="csv", encoding=encoding, delimiter=delimiter, skip_lines=skip)


def _not_a_spreadsheet(expect: str, what: Any) -> str:
    if expect == "vcard":
        return _("This is not a vCard file (it looks like a %(what)s).") % {"what": what}
    return _("This is not a CSV or XLSX spreadsheet (it looks like a %(what)s).") % {"what": what}


def _inspect_zip(stream: IO[bytes], expect: str) -> FileInfo:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError):
        raise ImportFileError(_not_a_spreadsheet(expect, _lazy("damaged zip archive"))) from None
    finally:
        stream.seek(0)
    if expect == "table" and "xl/workbook.xml" in names:
        return FileInfo(kind="xlsx")
    if b"opendocument.spreadsheet" in mimetype:
        raise ImportFileError(_("OpenDocument spreadsheets (.ods) cannot be read. Save it as .xlsx or CSV."))
    return _raise_zip(expect, names)


def _raise_zip(expect: str, names: set[str]) -> FileInfo:
    if "word/document.xml" in names:
        raise ImportFileError(_not_a_spreadsheet(expect, _lazy("Word document")))
    if "xl/workbook.xml" in names:
        raise ImportFileError(_not_a_spreadsheet(expect, _lazy("Excel workbook")))
    raise ImportFileError(_not_a_spreadsheet(expect, _lazy("zip archive")))


def _detect_encoding(stream: IO[bytes], head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030; the whole file must decode."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if _looks_binary(head):
            raise ImportFileError(_not_a_spreadsheet("table", _lazy("binary file")))
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    if candidates == ["utf-8-sig"]:
        raise ImportFileError(_("The file says it is UTF-8 but holds bytes that are not. Save it again as UTF-8."))
    raise ImportFileError(
        _(
            "The file's text encoding is neither UTF-8 nor GBK (GB18030). "
            "Save it as “CSV UTF-8” in your spreadsheet program and try again."
        )
    )


_CONTROL = bytes(range(0, 9)) + bytes(range(14, 32)) + b"\x7f"


def _looks_binary(head: bytes) -> bool:
    """Many control bytes: not text (a stray NUL in a cell is the row's problem, not the file's)."""
    controls = sum(head.count(byte) for byte in _CONTROL)
    return controls > max(4, len(head) // 50)


def _decoded_sample(stream: IO[bytes], encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return str(decoder.decode(stream.read(65536)))


def _detect_delimiter(sample: str) -> tuple[str, int]:
    """The delimiter of the header line (Excel's ``sep=;`` first line wins)."""
    lines = [line for line in sample.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if first.lower().startswith("sep=") and len(first.strip()) == 5:
        return first.strip()[4], 1
    counts = {d: _count_outside_quotes(first, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return (best if counts[best] else ","), 0


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


# --- rows ----------------------------------------------------------------------------------------------


@dataclass
class Table:
    """A file's header and an iterator over its data rows: (row number, cells)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    estimated_rows: int = 0


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _header(cells: list[str], has_header: bool) -> list[str]:
    if len(cells) > MAX_COLUMNS:
        raise ImportFileError(_("The file has more than %(count)d columns.") % {"count": MAX_COLUMNS})
    if not has_header:
        return [_("Column %(letter)s") % {"letter": column_letter(i)} for i in range(len(cells))]
    return [
        cell.strip().lstrip("\ufeff") or _("Column %(letter)s") % {"letter": column_letter(i)}
        for i, cell in enumerate(cells)
    ]


def _csv_records(stream: IO[bytes], info: FileInfo) -> Iterator[tuple[int, int, list[str]]]:
    """(record number, first line, cells) of each CSV record; broken quotes raise ImportFileError."""
    text = io.TextIOWrapper(stream, encoding=info.encoding, newline="", errors="strict")
    try:
        for _skipped in range(info.skip_lines):
            text.readline()
        reader = csv.reader(text, delimiter=info.delimiter, strict=True)
        number, line = 0, info.skip_lines
        while True:
            first_line = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(_broken_quotes(first_line, info.skip_lines + reader.line_num, exc)) from None
            line = info.skip_lines + reader.line_num
            number += 1
            yield number, first_line, cells
    except UnicodeDecodeError:
        raise ImportFileError(_("The file's text encoding changes part-way through. Save it again as UTF-8.")) from None
    finally:
        with contextlib.suppress(ValueError):  # the file may already be closed
            text.detach()


def _broken_quotes(first: int, last: int, exc: csv.Error) -> str:
    where = str(first) if first >= last else f"{first}–{last}"
    if "field larger than field limit" in str(exc):
        return _(
            "Line %(line)s: a quote is never closed, so the rest of the file is one value. Nothing was imported."
        ) % {"line": first}
    return _(
        "Line %(line)s: a quoted value is not closed properly (broken quotes). "
        "Fix the quotes in the file and try again; nothing was imported."
    ) % {"line": where}


def count_rows(fileobj: Any, info: FileInfo, *, has_header: bool = True) -> int:
    """Read the whole table once, before anything is imported: its number of data rows (blank rows left
    out). Raises ImportFileError for broken quotes, a damaged workbook, or more rows than one import may
    hold, whatever the format."""
    with open_table(fileobj, info, has_header=has_header) as table:
        return count_within_limit(table.rows)


def count_within_limit(items: Iterable[Any]) -> int:
    """How many ``items`` a file holds (rows, cards), read to the end; more than one import may hold
    (``CRM_IMPORT_MAX_ROWS``) raises ImportFileError as soon as the limit is passed."""
    limit = max_rows()
    count = 0
    for count, _item in enumerate(items, start=1):
        if count > limit:
            raise ImportFileError(
                _("The file has more than %(count)s rows; split it into smaller files.") % {"count": f"{limit:,}"}
            )
    return count


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


@contextmanager
def open_table(fileobj: Any, info: FileInfo, *, has_header: bool = True) -> Iterator[Table]:
    """The header and data rows of a CSV or XLSX file; blank rows are left out."""
    stream = binary(fileobj)
    if info.kind == "xlsx":
        # openpyxl (and numpy, which it loads when present) only in the process that reads a workbook.
        from .xlsx import XlsxError, XlsxTable

        try:
            workbook = XlsxTable(stream)
        except XlsxError:
            raise ImportFileError(_("The XLSX file is damaged or not a real Excel workbook.")) from None
        with workbook:
            rows = ((number, cells) for number, cells in _guarded(workbook.rows()) if not _is_blank(cells))
            yield _table(rows, has_header, estimated=workbook.estimated_rows)
        return
    records = ((number, cells) for number, _line, cells in _csv_records(stream, info) if not _is_blank(cells))
    yield _table(records, has_header, estimated=0)


def _guarded(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """XLSX rows; a file damaged part-way through stops with a clear message. Every import counts the
    rows first (``count_rows``), so the damage is found before anything is written."""
    number = 0
    try:
        for number, cells in rows:
            yield number, cells
    except (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError):
        raise ImportFileError(
            _("The XLSX file is damaged after row %(row)s; nothing was imported.") % {"row": number}
        ) from None


def _table(rows: Iterator[tuple[int, list[str]]], has_header: bool, *, estimated: int) -> Table:
    first = next(rows, None)
    if first is None:
        raise ImportFileError(_("The file is empty."))
    if has_header:
        return Table(header=_header(first[1], True), rows=rows, estimated_rows=max(estimated - 1, 0))

    def all_rows() -> Iterator[tuple[int, list[str]]]:
        yield first
        yield from rows

    return Table(header=_header(first[1], False), rows=all_rows(), estimated_rows=estimated)


def preview(
    fileobj: Any, info: FileInfo, *, has_header: bool, limit: int = 10
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the first ``limit`` data rows, read without going through the whole file."""
    with open_table(fileobj, info, has_header=has_header) as table:
        rows = []
        for row in table.rows:
            rows.append(row)
            if len(rows) >= limit:
                break
        if not rows:
            raise ImportFileError(_("The file has a header row but no data rows."))
        return table.header, rows
