"""XLSX read row by row in flat memory.

openpyxl's read-only mode streams a worksheet, but it loads the whole shared-strings table (every
distinct text of the file) into a list and keeps an emptied element per row. Here the table is read
lazily and kept in temporary files (with a small in-memory window), and rows are parsed one at a
time and dropped. Formulas give the value the spreadsheet last calculated (``data_only``). Merged
cells are read before the rows, so that every cell of a merged range gets its first cell's value,
as the person sees it.

The XML is parsed with the standard library's expat, which since 2.4.1 refuses entity expansion
attacks ("billion laughs") and never fetches external entities; the unpacked size is capped too.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from typing import IO, Any
from xml.etree.ElementTree import iterparse

from openpyxl.cell.text import Text
from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"
MAX_UNPACKED_BYTES = 4 * 1024**3  # a larger unpacked sheet is most probably a zip bomb
MAX_MERGED_RANGES = 100_000
_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


class XlsxError(ValueError):
    pass


class SharedStrings:
    """The shared-strings table, parsed as far as the cells asked so far need, kept on disk."""

    WINDOW = 4096

    def __init__(self, archive: zipfile.ZipFile | None, path: str | None) -> None:
        self._events: Iterator[tuple[str, Any]] | None = None
        self._source: IO[bytes] | None = None
        if archive is not None and path:
            self._source = archive.open(path)
            self._events = iterparse(self._source, events=("start", "end"))  # noqa: S314 - see module docstring
        self._root: Any = None
        self._data = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._offsets = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._data_end = 0
        self._flushed = 0  # strings written to the files
        self._recent: list[str] = []  # strings parsed but not yet written
        self._lookup = lru_cache(maxsize=2048)(self._read)

    def __len__(self) -> int:
        return self._flushed + len(self._recent)

    def __getitem__(self, index: int) -> str:
        index = int(index)
        while index >= len(self):
            if not self._parse_next():
                raise IndexError(index)
        if index >= self._flushed:
            return self._recent[index - self._flushed]
        return self._lookup(index)

    def _parse_next(self) -> bool:
        if self._events is None:
            return False
        for event, element in self._events:
            if event == "start":
                if self._root is None:
                    self._root = element
                continue
            if element.tag == STRING_TAG:
                text = Text.from_tree(element).content.replace("x005F_", "")
                self._root.clear()
                self._recent.append(text)
                if len(self._recent) >= self.WINDOW:
                    self._flush()
                return True
        self._events = None
        return False

    def _flush(self) -> None:
        self._data.seek(self._data_end)
        offsets = bytearray()
        for text in self._recent:
            offsets += self._data_end.to_bytes(8, "little")
            encoded = text.encode("utf-8", "surrogatepass")
            self._data.write(encoded)
            self._data_end += len(encoded)
        self._offsets.seek(self._flushed * 8)
        self._offsets.write(bytes(offsets))
        self._flushed += len(self._recent)
        self._recent = []
        self._data.flush()
        self._offsets.flush()

    def _read(self, index: int) -> str:
        self._offsets.seek(index * 8)
        raw = self._offsets.read(16 if index + 1 < self._flushed else 8)
        start = int.from_bytes(raw[:8], "little")
        end = int.from_bytes(raw[8:16], "little") if len(raw) == 16 else self._data_end
        self._data.seek(start)
        return self._data.read(end - start).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
        self._data.close()
        self._offsets.close()


class _LazyStringsReader(ExcelReader):
    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        self.shared_strings = SharedStrings(self.archive, part.PartName[1:] if part is not None else None)


def cell_text(value: Any) -> str:
    """A cell's value as the text a person sees (a whole number without ``.0``, a date as ISO)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class XlsxTable:
    """The first worksheet of a workbook, as rows of text."""

    def __init__(self, fileobj: IO[bytes]) -> None:
        try:
            archive = zipfile.ZipFile(fileobj)
        except zipfile.BadZipFile as exc:
            raise XlsxError("not a zip archive") from exc
        unpacked = sum(info.file_size for info in archive.infolist() if info.filename.endswith(".xml"))
        archive.close()
        if unpacked > MAX_UNPACKED_BYTES:
            raise XlsxError("too large when unpacked")
        fileobj.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = _LazyStringsReader(fileobj, read_only=True, data_only=True)
            try:
                reader.read()
            except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
                raise XlsxError(str(exc)) from exc
        self._reader = reader
        self.workbook = reader.wb
        if not self.workbook.worksheets:
            raise XlsxError("no worksheet")
        self.sheet = self.workbook.worksheets[0]
        self.sheet_title = self.sheet.title
        self.estimated_rows = self.sheet.max_row or 0

    def close(self) -> None:
        strings = self._reader.shared_strings
        if isinstance(strings, SharedStrings):
            strings.close()
        self.workbook.close()

    def __enter__(self) -> XlsxTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _merged_ranges(self) -> list[tuple[int, int, int, int]]:
        """(min_row, min_col, max_row, max_col) of each merged range, read from the sheet's end."""
        found: list[tuple[int, int, int, int]] = []
        tail = b""
        with self.workbook._archive.open(self.sheet._worksheet_path) as source:
            while chunk := source.read(1 << 20):
                text = tail + chunk
                for match in _MERGE_RE.finditer(text):
                    min_col, min_row, max_col, max_row = range_boundaries(match.group(1).decode())
                    found.append((min_row, min_col, max_row, max_col))
                    if len(found) > MAX_MERGED_RANGES:
                        raise XlsxError("too many merged cells")
                tail = text[-200:]
                # A match that straddles chunks is found again in the tail: drop duplicates below.
        return sorted(set(found))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells as text) for each row, merged ranges filled; gaps give empty rows."""
        merged = self._merged_ranges()
        pending = iter(merged)
        upcoming = next(pending, None)
        active: list[list[Any]] = []  # [min_row, min_col, max_row, max_col, value]
        parser = WorkSheetParser(
            None,
            self._reader.shared_strings,
            data_only=True,
            epoch=self.workbook.epoch,
            date_formats=self.workbook._date_formats,
            timedelta_formats=self.workbook._timedelta_formats,
        )
        expected = 1
        with self.workbook._archive.open(self.sheet._worksheet_path) as source:
            parent: Any = None  # <sheetData>, emptied after each row
            for event, element in iterparse(source, events=("start", "end")):  # noqa: S314
                if event == "start":
                    if element.tag == DATA_TAG:
                        parent = element
                    continue
                if element.tag != ROW_TAG:
                    continue
                number, cells = parser.parse_row(element)
                if parent is not None:
                    parent.clear()
                while expected < number:
                    yield expected, self._fill(expected, [], active)
                    expected += 1
                width = max((cell["column"] for cell in cells), default=0)
                values = [""] * width
                for cell in cells:
                    values[cell["column"] - 1] = cell_text(cell["value"])
                while upcoming is not None and upcoming[0] <= number:
                    active.append([*upcoming, None])
                    upcoming = next(pending, None)
                yield number, self._fill(number, values, active)
                expected = number + 1
                active = [item for item in active if item[2] > number]

    @staticmethod
    def _fill(number: int, values: list[str], active: list[list[Any]]) -> list[str]:
        for item in active:
            min_row, min_col, max_row, max_col = item[:4]
            if not min_row <= number <= max_row:
                continue
            if number == min_row:
                item[4] = values[min_col - 1] if min_col <= len(values) else ""
            if len(values) < max_col:
                values.extend([""] * (max_col - len(values)))
            for column in range(min_col, max_col + 1):
                values[column - 1] = item[4] or ""
        return values
