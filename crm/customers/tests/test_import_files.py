"""Bad and unusual input files: each gets a clear message, the good rows are imported or none are,
and nothing already in the CRM is damaged."""

from __future__ import annotations

import html
import io
import zipfile
from typing import Any

import pytest
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.core.models import JournalEntry
from crm.core.testing import api_client
from crm.customers import services
from crm.customers.custom_fields import services as definitions
from crm.customers.io.reading import MAX_COLUMNS, ImportFileError, count_rows, inspect_file, open_table
from crm.customers.io.testing import (
    csv_bytes,
    excel_like_xlsx,
    finished_job,
    media_fixture,
    rejected_rows,
    start_import,
    upload,
    xlsx_bytes,
)
from crm.customers.models import Company, Contact, ContactEmail, ContactPhone, Tag

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
CHINESE = [
    ["姓名", "邮箱", "手机", "公司", "职位", "城市"],
    ["王芳", "wang.fang@example.cn", "+86 138 1234 5678", "华为技术", "销售经理", "深圳"],
    ["李雷", "li.lei@example.cn", "+86 139 8765 4321", "华为技术", "工程师", "北京"],
]


@pytest.fixture
def existing_crm(admin_user):
    """Three contacts with everything a careless import could change: several emails and phones, a
    company, tags and custom values."""
    definitions.custom_field_create(actor=admin_user, entity="contact", key="budget", label="Budget", kind="money")
    definitions.custom_field_create(
        actor=admin_user,
        entity="contact",
        key="language",
        label="Preferred language",
        kind="choice",
        choices=["English", "中文"],
    )
    engines = services.company_create(actor=admin_user, data={"name": "Analytical Engines", "city": "London"})
    huawei = services.company_create(actor=admin_user, data={"name": "华为技术"})
    vip, navy = Tag.objects.create(name="VIP"), Tag.objects.create(name="Navy")
    ada = services.contact_create(
        actor=admin_user,
        data={
            "full_name": "Ada Lovelace",
            "title": "Countess",
            "company": engines,
            "emails": [{"email": "ada@example.com"}, {"email": "ada@home.example", "kind": "home"}],
            "phones": [{"number": "+44 20 7946 0018"}],
            "tags": [vip],
            "custom": {"budget": 100, "language": "English"},
        },
    )
    grace = services.contact_create(
        actor=admin_user,
        data={
            "full_name": "Grace Hopper",
            "title": "Rear Admiral",
            "emails": [{"email": "grace@example.com"}],
            "phones": [{"number": "(212) 555-0100"}, {"number": "(212) 555-0101"}],
            "tags": [vip, navy],
            "custom": {"budget": 5},
        },
    )
    wang = services.contact_create(
        actor=admin_user,
        data={
            "full_name": "王芳",
            "title": "销售经理",
            "company": huawei,
            "emails": [{"email": "wang.fang@example.cn"}],
            "phones": [{"number": "+86 138 1234 5678"}],
            "custom": {"language": "中文"},
        },
    )
    return {"ada": ada, "grace": grace, "wang": wang}


def snapshot() -> dict[str, Any]:
    """Everything already in the CRM that an import could change, to compare before and after."""
    return {
        "contacts": list(Contact.objects.order_by("pk").values()),
        "emails": list(ContactEmail.objects.order_by("pk").values()),
        "phones": list(ContactPhone.objects.order_by("pk").values()),
        "companies": list(Company.objects.order_by("pk").values()),
        "tags": sorted(Contact.tags.through.objects.values_list("contact_id", "tag_id")),
        "journal": JournalEntry.objects.count(),
    }


# Rows that would change each existing contact (and add one): a refused file must change none of them.
UPDATES = [
    ["Full name", "Email", "Mobile", "Job title", "Company", "Budget"],
    ["Ada Lovelace", "ada@example.com", "+44 20 7946 0019", "Janitor", "Other Engines", "999"],
    ["Grace Hopper", "grace@example.com", "", "Admiral", "Navy", "7"],
    ["王芳", "wang.fang@example.cn", "+86 139 8765 4321", "总经理", "华为", ""],
    ["Alan Turing", "alan@example.com", "", "", "Bletchley Park", ""],
]


def _people(count: int, width: int = len(UPDATES[0])) -> list[list[str]]:
    return [[f"Person {i}", f"p{i}@example.com", *[""] * (width - 2)] for i in range(count)]


def _broken_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _refusal(client, capture, data: bytes, name: str = "contacts.csv", **kwargs) -> str:
    """The message a refused file gets: on the upload or mapping page, or as the failed job's error."""
    with capture(execute=True):
        response = start_import(client, upload(data, name), **kwargs)
    if response.status_code == 302:
        job = finished_job(response)
        assert job.status == JobStatus.FAILED, (job.status, job.result)
        return str(job.result["file_error"])
    assert response.status_code == 400, response.status_code
    return html.unescape(response.content.decode())


def _upload_error(client, data: bytes, name: str = "contacts.csv") -> str:
    response = client.post(reverse("customers:contact_import"), {"file": upload(data, name), "has_header": "on"})
    assert response.status_code == 400, response.status_code
    return response.content.decode()


def _import(client, capture, data: bytes, name: str = "contacts.csv", **kwargs):
    with capture(execute=True):
        response = start_import(client, upload(data, name), **kwargs)
    assert response.status_code == 302, response.content.decode()[:3000]
    return finished_job(response)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_file_with_chinese_headers(admin_client, django_capture_on_commit_callbacks, encoding):
    job = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes(CHINESE, encoding=encoding))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["file"]["encoding"] == "gb18030" and job.result["created"] == 2
    wang = Contact.objects.get(email="wang.fang@example.cn")
    assert (wang.full_name, wang.name, wang.title, wang.city, wang.company.name) == (
        "王芳",
        "王芳",
        "销售经理",
        "深圳",
        "华为技术",
    )
    assert wang.phone == "+8613812345678"


def test_utf8_with_and_without_bom(admin_client, django_capture_on_commit_callbacks):
    with_bom = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes(CHINESE[:2], bom=True))
    assert with_bom.params["file"]["encoding"] == "utf-8-sig"
    assert with_bom.params["mapping"][0] == "full_name"  # the BOM did not stick to the first header
    without = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes([CHINESE[0], CHINESE[2]]))
    assert without.params["file"]["encoding"] == "utf-8"
    assert Contact.objects.filter(full_name__in=["王芳", "李雷"]).count() == 2


def test_utf16_tab_separated_text_from_excel(admin_client, django_capture_on_commit_callbacks):
    data = "\ufeff" + "\r\n".join("\t".join(row) for row in CHINESE) + "\r\n"
    job = _import(admin_client, django_capture_on_commit_callbacks, data.encode("utf-16-le").join([b"", b""]))
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == 2
    assert job.params["file"]["delimiter"] == "\t"


def test_an_unknown_encoding_is_refused_with_a_clear_message(admin_client):
    data = "Name,City\nJosé,Café\n".encode("cp1252")
    page = _upload_error(admin_client, data)
    assert "neither UTF-8 nor GBK" in page
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"  \r\n\r\n", "The file is empty."),
        (b"Full name,Email\r\n", "header row but no data rows"),
        (PNG, "not a CSV or XLSX spreadsheet (it looks like a PNG image)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old Excel file (.xls)"),
        (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "HTML or XML document"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nEND:VCARD\r\n", "use \u201cImport vCards\u201d"),
        (bytes(range(256)) * 20, "not a CSV or XLSX spreadsheet"),
    ],
)
def test_files_that_are_not_usable_spreadsheets(admin_client, data, message):
    page = _upload_error(admin_client, data)
    assert message.replace("\u201c", "&ldquo;") in page or message in page, page[:3000]


def test_a_zip_that_is_not_a_workbook(admin_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert "Word document" in _upload_error(admin_client, buffer.getvalue(), "contacts.xlsx")


def test_broken_quotes_at_the_start_are_refused_at_upload(admin_client):
    data = b'Full name,Email\r\n"Ada Lovelace,ada@example.com\r\n'
    page = _upload_error(admin_client, data)
    assert "broken quotes" in page or "never closed" in page


def test_broken_quotes_further_down_refuse_the_whole_file(admin_client, django_capture_on_commit_callbacks):
    rows = [["Full name", "Email"], *([f"Person {i}", f"p{i}@example.com"] for i in range(40))]
    data = csv_bytes(rows) + b'"Broken "quote,x@example.com\r\n' + csv_bytes([["Last", "last@example.com"]])
    job = _import(admin_client, django_capture_on_commit_callbacks, data)
    assert job.status == JobStatus.FAILED
    assert "Line 42" in job.result["file_error"] and "nothing was imported" in job.result["file_error"]
    assert Contact.objects.count() == 0  # none of the good rows either
    page = admin_client.get(reverse("customers:contact_import_job", args=[job.pk])).content.decode()
    assert "Line 42" in page


def test_an_unclosed_quote_is_refused_instead_of_swallowing_the_file(admin_client, django_capture_on_commit_callbacks):
    rows = [["Full name", "Email"], *([f"Person {i}", f"p{i}@example.com"] for i in range(20))]
    data = csv_bytes(rows) + b'"Never closed,x@example.com\r\n' + csv_bytes(rows[1:])
    job = _import(admin_client, django_capture_on_commit_callbacks, data)
    assert job.status == JobStatus.FAILED and "Line 22" in job.result["file_error"]
    assert Contact.objects.count() == 0


def test_missing_name_column_is_refused_on_the_mapping_page(admin_client):
    response = start_import(admin_client, upload(csv_bytes([["Email", "City"], ["ada@example.com", "London"]])))
    assert response.status_code == 400
    assert "Map a column to the full name" in response.content.decode()
    assert Contact.objects.count() == 0


def test_extra_columns_are_ignored_and_short_or_long_rows_handled(admin_client, django_capture_on_commit_callbacks):
    rows = [
        ["Full name", "Email", "Favourite colour", "Shoe size"],
        ["Ada Lovelace", "ada@example.com", "blue", "38"],
        ["Grace Hopper"],  # fewer cells than the header: the rest is empty
        ["Alan Turing", "alan@example.com", "green", "44", "surplus value"],  # more cells than the header
        ["Edsger Dijkstra", "edsger@example.com", "", "", "", ""],  # empty surplus cells are fine
    ]
    job = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes(rows))
    assert job.params["mapping"] == ["full_name", "email", "", ""]
    assert job.result["created"] == 3 and job.result["rejected"] == 1
    assert "5 values but the header has 4 columns" in rejected_rows(job)[1][1]
    assert not Contact.objects.filter(name="Alan Turing").exists()


def test_semicolons_and_excel_sep_line(admin_client, django_capture_on_commit_callbacks):
    data = b"sep=;\r\n" + csv_bytes([["Name", "E-mail"], ["Ada Lovelace", "ada@example.com"]], delimiter=";")
    job = _import(admin_client, django_capture_on_commit_callbacks, data)
    assert job.result["created"] == 1 and job.params["file"]["delimiter"] == ";"


def test_nul_bytes_line_breaks_and_formula_text_in_cells(admin_client, django_capture_on_commit_callbacks):
    rows = [
        ["Full name", "Email", "Job title", "Street"],
        ["Null\x00Byte", "nul@example.com", "", ""],
        ["Line\nBreak", "lb@example.com", "", ""],
        ["Multi Line", "ml@example.com", "", "1 Main St\nFlat 2"],  # an address may have several lines
        ['=HYPERLINK("http://evil.example")', "f@example.com", "'+1+1", ""],
    ]
    job = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes(rows))
    assert job.result["created"] == 2 and job.result["rejected"] == 2
    reasons = {row[0]: row[1] for row in rejected_rows(job)[1:]}
    assert "NUL byte" in reasons["2"] and "line break" in reasons["3"]
    assert Contact.objects.get(email="ml@example.com").street == "1 Main St\nFlat 2"
    formula = Contact.objects.get(email="f@example.com")
    # Stored as typed; the apostrophe of a formula-safe export is taken off again.
    assert formula.name == '=HYPERLINK("http://evil.example")' and formula.title == "+1+1"
    assert rejected_rows(job)[0][:2] == ["Row", "Problems"]


def test_bad_rows_never_damage_existing_contacts(admin_client, existing_crm, django_capture_on_commit_callbacks):
    before = snapshot()
    rows = [
        ["Full name", "Email", "Mobile", "Job title", "Lifecycle stage", "Budget"],
        ["Ada Lovelace", "ada@example.com", "not a phone", "Janitor", "", ""],
        ["Ada Lovelace", "ada@example.com", "", "Janitor", "Emperor", ""],
        ["Ada Lovelace", "ada@example.com", "", "X" * 151, "", ""],
        ["Grace Hopper", "grace@example.com", "", "Admiral", "", "lots"],
        ["王芳", "wang.fang@example.cn; not-an-email", "", "总经理", "", ""],
    ]
    job = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes(rows), duplicates="update")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["rejected"] == 5 and job.result["updated"] == 0 and job.result["created"] == 0
    assert snapshot() == before


def test_xlsx_with_formulas_merged_cells_and_shared_strings(admin_client, django_capture_on_commit_callbacks):
    data = excel_like_xlsx(
        [
            ["Full name", "Email", "Company", "Mobile"],
            [('=CONCAT("Ada"," ","Lovelace")', "Ada Lovelace"), "ada@example.com", "Analytical Engines", 2125550100],
            ["Charles Babbage", "charles@example.com", None, ('="+44 20 7946 0019"', "+44 20 7946 0019")],
            ["Mary Somerville", "mary@example.com"],
            [("=1/0", "#DIV/0!"), "error@example.com", "Other"],
        ],
        merged=["C2:C4"],
        dimension="A1:D1",  # a wrong dimension, as some programs write
    )
    job = _import(admin_client, django_capture_on_commit_callbacks, data, "contacts.xlsx")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["file"]["kind"] == "xlsx" and job.result["created"] == 4, rejected_rows(job)
    ada = Contact.objects.get(email="ada@example.com")
    assert ada.name == "Ada Lovelace"  # the formula's value, never the formula
    # The merged company cell applies to each of its rows, as the person sees it.
    assert set(Contact.objects.filter(company__name="Analytical Engines").values_list("email", flat=True)) == {
        "ada@example.com",
        "charles@example.com",
        "mary@example.com",
    }
    assert Contact.objects.get(email="charles@example.com").phone == "+442079460019"
    assert Contact.objects.get(email="error@example.com").name == "#DIV/0!"


def test_xlsx_written_by_openpyxl_with_merged_header_and_numbers(admin_client, django_capture_on_commit_callbacks):
    import datetime as dt

    data = xlsx_bytes(
        [
            ["Name", "Email", "Date of birth", "Phone"],
            ["Ada Lovelace", "ada@example.com", dt.date(1985, 12, 10), "+44 20 7946 0018"],
            ["=A2", "formula@example.com", None, None],  # a formula never calculated: no value to import
        ]
    )
    job = _import(admin_client, django_capture_on_commit_callbacks, data, "contacts.xlsx")
    assert job.result["created"] == 1 and job.result["rejected"] == 1
    assert "no name" in rejected_rows(job)[1][1]
    ada = Contact.objects.get(email="ada@example.com")
    assert str(ada.date_of_birth) == "1985-12-10"


def test_damaged_xlsx(admin_client):
    data = xlsx_bytes([["Name"], ["Ada"]])
    broken = data[: len(data) // 2]
    assert "not a CSV or XLSX" in _upload_error(admin_client, broken, "contacts.xlsx")


def test_reading_streams_rows_in_order(admin_client):
    data = csv_bytes([["A", "B"], ["1", "2"], ["", ""], ["3", "4"]])
    handle = io.BytesIO(data)
    info = inspect_file(handle)
    assert count_rows(handle, info) == 2  # the blank row is no row
    with open_table(handle, info) as table:
        assert table.header == ["A", "B"] and list(table.rows) == [(2, ["1", "2"]), (4, ["3", "4"])]
    with pytest.raises(ImportFileError):
        inspect_file(io.BytesIO(b""))


# --- a refused file leaves what is already in the CRM as it was ---------------------------------------------

_HEADER = UPDATES[0]
REFUSED_FILES = [
    pytest.param(b"", "contacts.csv", "The submitted file is empty.", id="empty-upload"),
    pytest.param(b"  \r\n\r\n", "contacts.csv", "The file is empty.", id="blank-lines"),
    pytest.param(csv_bytes([_HEADER]), "contacts.csv", "header row but no data rows", id="header-only"),
    pytest.param(PNG, "contacts.csv", "not a CSV or XLSX spreadsheet (it looks like a PNG image)", id="png"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "contacts.xls", "old Excel file (.xls)", id="xls"),
    pytest.param(
        b"<html><body><table><tr><td>Ada Lovelace</td></tr></table></body></html>",
        "contacts.csv",
        "HTML or XML document",
        id="html",
    ),
    pytest.param(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEMAIL:ada@example.com\r\nTITLE:Janitor\r\nEND:VCARD\r\n",
        "contacts.csv",
        "use \u201cImport vCards\u201d",
        id="vcard",
    ),
    pytest.param(bytes(range(256)) * 20, "contacts.csv", "not a CSV or XLSX spreadsheet", id="binary"),
    pytest.param(
        csv_bytes(
            [["Full name", "Email", "Job title"], ["Ada Lovelace", "ada@example.com", "Café"]], encoding="cp1252"
        ),
        "contacts.csv",
        "neither UTF-8 nor GBK",
        id="unknown-encoding",
    ),
    pytest.param(
        b"\xef\xbb\xbf" + csv_bytes([["Full name", "Job title"], ["Ada Lovelace", "Café"]], encoding="cp1252"),
        "contacts.csv",
        "says it is UTF-8 but holds bytes that are not",
        id="not-utf8-after-a-bom",
    ),
    pytest.param(
        csv_bytes([_HEADER]) + b'"Ada Lovelace,ada@example.com,,Janitor,,\r\n' + csv_bytes(UPDATES[2:]),
        "contacts.csv",
        "Line 2",
        id="broken-quotes-at-the-start",
    ),
    pytest.param(
        csv_bytes([*UPDATES, *_people(36)]) + b'"Broken "quote,x@example.com,,,,\r\n' + csv_bytes(_people(1)),
        "contacts.csv",
        "Line 42: a quoted value is not closed properly (broken quotes). "
        "Fix the quotes in the file and try again; nothing was imported.",
        id="broken-quotes-further-down",
    ),
    pytest.param(
        csv_bytes([*UPDATES, *_people(16)]) + b'"Never closed,x@example.com,,,,\r\n' + csv_bytes(UPDATES[1:]),
        "contacts.csv",
        "Line 22",
        id="unclosed-quote-further-down",
    ),
    pytest.param(xlsx_bytes(UPDATES)[:1500], "contacts.xlsx", "not a CSV or XLSX", id="damaged-xlsx"),
    pytest.param(
        _broken_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook"}),
        "contacts.xlsx",
        "The XLSX file is damaged or not a real Excel workbook.",
        id="xlsx-with-a-broken-workbook",
    ),
    pytest.param(_broken_zip({"word/document.xml": "<w/>"}), "contacts.xlsx", "Word document", id="zip-not-a-workbook"),
    pytest.param(
        csv_bytes([["Email", "Job title", "Budget"], ["ada@example.com", "Janitor", "999"]]),
        "contacts.csv",
        "Map a column to the full name",
        id="missing-name-column",
    ),
]


@pytest.mark.parametrize(("data", "name", "message"), REFUSED_FILES)
def test_a_refused_file_leaves_the_crm_untouched(
    admin_client, existing_crm, django_capture_on_commit_callbacks, data, name, message
):
    before = snapshot()
    refusal = _refusal(admin_client, django_capture_on_commit_callbacks, data, name, duplicates="update")
    assert message in refusal, refusal[:3000]
    assert snapshot() == before


# --- the limits: rows, bytes and columns ---------------------------------------------------------------------


def test_a_file_over_the_row_limit_is_refused_and_nothing_is_written(
    admin_client, existing_crm, settings, django_capture_on_commit_callbacks
):
    settings.CRM_IMPORT_MAX_ROWS = 100
    rows = [*UPDATES, *_people(97)]  # the header and 101 rows, the first ones changing existing contacts
    before = snapshot()
    refusal = _refusal(admin_client, django_capture_on_commit_callbacks, csv_bytes(rows), duplicates="update")
    assert "The file has more than 100 rows; split it into smaller files." in refusal
    assert snapshot() == before

    job = _import(admin_client, django_capture_on_commit_callbacks, csv_bytes(rows[:-1]), duplicates="update")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["updated"], job.result["created"]) == (3, 97)  # exactly at the limit: imported


def test_a_file_over_the_byte_limit_is_refused_and_nothing_is_written(
    admin_client, admin_user, existing_crm, settings, django_capture_on_commit_callbacks
):
    settings.CRM_IMPORT_MAX_BYTES = 2048
    data = csv_bytes(UPDATES)
    data += b"Padding," + b"p" * (2048 - len(data) - len(b"Padding,\r\n")) + b"\r\n"
    assert len(data) == 2048
    data += b"\n"  # one byte over (a blank line: the rows are the same)
    before = snapshot()
    refusal = _refusal(admin_client, django_capture_on_commit_callbacks, data, duplicates="update")
    assert "The file is larger than 2.0\xa0KB; split it into smaller files." in refusal
    assert snapshot() == before

    api = api_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("customers-api:import-list"),
            {"file": upload(data), "duplicates": "update"},
            format="multipart",
        )
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["file"] == ["The file is too large."], response.json()
    assert snapshot() == before

    job = _import(admin_client, django_capture_on_commit_callbacks, data[:-1], duplicates="update")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["updated"] == 3  # exactly at the limit: imported


@pytest.mark.parametrize(("build", "name"), [(csv_bytes, "contacts.csv"), (xlsx_bytes, "contacts.xlsx")])
def test_a_file_over_the_column_limit_is_refused_and_nothing_is_written(
    admin_client, existing_crm, django_capture_on_commit_callbacks, build, name
):
    extra = MAX_COLUMNS - len(_HEADER)
    rows = [
        [*_HEADER, *(f"Extra {i}" for i in range(extra + 1))],
        *([*row, *(f"x{i}" for i in range(extra + 1))] for row in UPDATES[1:]),
    ]
    assert len(rows[0]) == MAX_COLUMNS + 1
    before = snapshot()
    refusal = _refusal(admin_client, django_capture_on_commit_callbacks, build(rows), name, duplicates="update")
    assert f"The file has more than {MAX_COLUMNS} columns." in refusal
    assert snapshot() == before

    at_the_limit = [row[:-1] for row in rows]
    job = _import(admin_client, django_capture_on_commit_callbacks, build(at_the_limit), name, duplicates="update")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert len(job.params["mapping"]) == MAX_COLUMNS and job.result["updated"] == 3
