"""Exports of contacts and companies: only what the person may see, filtered like the list,
formula-safe in CSV and XLSX, and importable again."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.io.testing import finished_job, media_fixture, start_import, upload
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

DANGEROUS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "@SUM(A1:A9)", "-2+3"]


@pytest.fixture
def exporter(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def records(exporter):
    other = make_user(module="customers", scope="own")
    acme = services.company_create(actor=exporter, data={"name": "=cmd|' /C calc'!A0", "industry": "Tools"})
    mine = [
        services.contact_create(
            actor=exporter,
            data={
                "full_name": name,
                "company": acme,
                "lifecycle_stage": "customer" if i % 2 else "lead",
                "emails": [{"email": f"mine{i}@example.com"}, {"email": f"other{i}@example.com"}],
                "phones": [{"number": f"+1 212 555 01{i:02d}", "kind": "mobile"}],
            },
        )
        for i, name in enumerate(DANGEROUS)
    ]
    services.contact_create(actor=other, data={"full_name": "Not Yours", "emails": [{"email": "secret@example.com"}]})
    services.company_create(actor=other, data={"name": "Hidden Company"})
    return {"mine": mine, "company": acme}


def _export(client, capture, url_name, data):
    with capture(execute=True):
        response = client.post(reverse(url_name), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = finished_job(response)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def _csv(job):
    with job.result_file.open("rb") as handle:
        raw = handle.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheet programs need the BOM for Chinese text
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_contact_csv_holds_only_visible_records_and_is_formula_safe(
    client, exporter, records, django_capture_on_commit_callbacks
):
    client.force_login(exporter)
    job = _export(client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "csv"})
    rows = _csv(job)
    header, body = rows[0], rows[1:]
    assert job.result["rows"] == 4 and len(body) == 4
    assert "secret@example.com" not in str(rows) and "Not Yours" not in str(rows)
    full_names = {row[header.index("Full name")] for row in body}
    assert full_names == {"'" + value for value in DANGEROUS}  # shown as text, never run
    assert {row[header.index("Company")] for row in body} == {"'=cmd|' /C calc'!A0"}
    assert all(row[header.index("Mobile")].startswith("'+1212555") for row in body)
    first = next(row for row in body if row[header.index("Email")] == "mine0@example.com")
    assert first[header.index("Other emails")] == "other0@example.com"
    download = client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_filters_of_the_list_apply(client, exporter, records, django_capture_on_commit_callbacks):
    client.force_login(exporter)
    job = _export(
        client,
        django_capture_on_commit_callbacks,
        "customers:contact_export",
        {"format": "csv", "lifecycle_stage": "customer", "page": "3", "unknown": "x"},
    )
    assert job.params["filters"] == {"lifecycle_stage": "customer"}
    body = _csv(job)[1:]
    assert len(body) == 2


def test_invalid_filters_are_refused(client, exporter, records):
    client.force_login(exporter)
    response = client.post(reverse("customers:contact_export"), {"format": "csv", "lifecycle_stage": "emperor"})
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_contact_xlsx_opens_with_openpyxl_and_shows_formulas_as_text(
    client, exporter, records, django_capture_on_commit_callbacks
):
    client.force_login(exporter)
    job = _export(client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "xlsx"})
    assert job.result_file.name.endswith(".xlsx")
    with job.result_file.open("rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    sheet = workbook.active
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    names = {row[header.index("Full name")] for row in rows[1:]}
    assert {cell.value for cell in names} == set(DANGEROUS)  # the text itself, no apostrophe added
    assert all(cell.data_type == "s" for cell in names)  # stored as text, not as formulas
    assert all(cell.quotePrefix for cell in names)
    assert len(rows) == 5


def test_company_export_csv_and_xlsx(client, exporter, records, django_capture_on_commit_callbacks):
    client.force_login(exporter)
    job = _export(client, django_capture_on_commit_callbacks, "customers:company_export", {"format": "csv"})
    rows = _csv(job)
    assert [row[1] for row in rows[1:]] == ["'=cmd|' /C calc'!A0"]
    job = _export(client, django_capture_on_commit_callbacks, "customers:company_export", {"format": "xlsx"})
    with job.result_file.open("rb") as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read())).active
    assert sheet["B2"].value == "=cmd|' /C calc'!A0" and sheet["B2"].data_type == "s"


def test_export_needs_the_export_permission(client, roles):
    viewer = make_user(module="customers", actions=("view", "create", "edit"))
    client.force_login(viewer)
    for name in ("customers:contact_export", "customers:company_export", "customers:contact_vcard_export"):
        assert client.get(reverse(name)).status_code == 403
        assert client.post(reverse(name), {"format": "csv"}).status_code == 403


def test_export_page_carries_the_list_filters(client, exporter, records):
    client.force_login(exporter)
    page = client.get(reverse("customers:contact_export"), {"lifecycle_stage": "customer", "q": "x"}).content.decode()
    assert 'name="lifecycle_stage" value="customer"' in page and 'name="q" value="x"' in page


def test_an_export_imports_back_without_changes(client, exporter, records, django_capture_on_commit_callbacks):
    from crm.core.models import JournalEntry

    client.force_login(exporter)
    job = _export(client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "csv"})
    with job.result_file.open("rb") as handle:
        data = handle.read()
    before = JournalEntry.objects.count()
    snapshot = list(Contact.objects.order_by("pk").values())
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(client, upload(data, "export.csv"), duplicates="update")
    imported = finished_job(response)
    assert imported.status == JobStatus.SUCCEEDED, imported.error
    assert imported.result["unchanged"] == 4 and imported.result["rejected"] == 0, imported.result
    assert JournalEntry.objects.count() == before
    assert list(Contact.objects.order_by("pk").values()) == snapshot

    job = _export(client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "xlsx"})
    with job.result_file.open("rb") as handle:
        data = handle.read()
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(client, upload(data, "export.xlsx"), duplicates="update")
    assert finished_job(response).result["unchanged"] == 4


def test_export_in_chinese(client, exporter, records, django_capture_on_commit_callbacks):
    exporter.language = "zh-hans"
    exporter.save()
    client.force_login(exporter)
    job = _export(client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "csv"})
    header = _csv(job)[0]
    assert "邮箱" in header  # the header in the person's language
