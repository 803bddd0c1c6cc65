"""Helpers for tests of import and export: files built in memory, and the import driven through its pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

HEADER = ["First name", "Last name", "Email", "Mobile", "Company", "Job title"]


def csv_bytes(
    rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False, delimiter: str = ","
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def upload(data: bytes, name: str = "contacts.csv", content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def xlsx_bytes(rows: Iterable[Sequence[Any]], *, merged: Sequence[str] = ()) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    for cells in merged:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def start_import(
    client: Any,
    file: SimpleUploadedFile,
    *,
    duplicates: str = "skip",
    mapping: dict[int, str] | None = None,
    has_header: bool = True,
) -> Any:
    """Upload, accept the guessed mapping (with ``mapping`` overrides) and start; the last response."""
    response = client.post(
        reverse("customers:contact_import"), {"file": file, "has_header": "on" if has_header else ""}
    )
    if response.status_code != 302:
        return response
    map_url = response["Location"]
    page = client.get(map_url)
    form = page.context["form"]
    data = {f"col_{i}": form[f"col_{i}"].value() or "" for i in range(len(form.header))}
    data.update({f"col_{i}": key for i, key in (mapping or {}).items()})
    data["duplicates"] = duplicates
    return client.post(map_url, data)


def finished_job(response: Any) -> Any:
    """The job a started import or export redirected to, read again from the database."""
    from crm.core.models import Job

    job_id = response["Location"].rstrip("/").split("/")[-1]
    return Job.objects.get(pk=job_id)


def rejected_rows(job: Any) -> list[list[str]]:
    with job.result_file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))


def excel_like_xlsx(rows: Sequence[Sequence[Any]], *, merged: Sequence[str] = (), dimension: str = "") -> bytes:
    """An XLSX as Excel writes it: texts in the shared-strings table, formulas with their last
    calculated value (a cell given as ``("=FORMULA()", value)``), merged ranges after the rows."""
    import zipfile
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter

    strings: list[str] = []
    index: dict[str, int] = {}

    def shared(text: str) -> int:
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    xml_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            ref = f"{get_column_letter(c)}{r}"
            if value is None or value == "":
                continue
            if isinstance(value, tuple):
                formula, cached = value
                kind = ' t="str"' if isinstance(cached, str) else ""
                shown = "" if cached is None else f"<v>{escape(str(cached))}</v>"
                cells.append(f'<c r="{ref}"{kind}><f>{escape(formula.lstrip("="))}</f>{shown}</c>')
            elif isinstance(value, str):
                cells.append(f'<c r="{ref}" t="s"><v>{shared(value)}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    merges = (
        f'<mergeCells count="{len(merged)}">{"".join(f"<mergeCell ref={chr(34)}{m}{chr(34)}/>" for m in merged)}</mergeCells>'
        if merged
        else ""
    )
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}" xmlns:r="{rel}">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + f"<sheetData>{''.join(xml_rows)}</sheetData>{merges}</worksheet>"
    )
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
        + "</sst>"
    )
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}">'
        '<sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": sst,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _isolated_media(settings: Any, tmp_path: Any) -> None:
    """Uploads, exports and rejected-rows files of a test go to its own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def media_fixture() -> Any:
    """``isolated_media = media_fixture()`` in a test module: an autouse fixture for that module."""
    import pytest

    return pytest.fixture(autouse=True)(_isolated_media)
