"""The row limit (CRM_IMPORT_MAX_ROWS) holds for every format and counts data rows only: a file over it
is refused before anything is written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.customers.io.testing import csv_bytes, finished_job, media_fixture, start_import, upload, xlsx_bytes
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()


def _rows(count: int) -> list[list[str]]:
    return [[f"Person {i}", f"p{i}@example.com"] for i in range(count)]


def _outcome(client, capture, data: bytes, name: str, **kwargs):
    with capture(execute=True):
        response = start_import(client, upload(data, name), **kwargs)
    assert response.status_code == 302, response.status_code
    return finished_job(response)


def test_an_xlsx_over_the_row_limit_is_refused_and_nothing_is_written(
    admin_client, settings, django_capture_on_commit_callbacks
):
    settings.CRM_IMPORT_MAX_ROWS = 100
    data = xlsx_bytes([["Full name", "Email"], *_rows(101)])
    job = _outcome(admin_client, django_capture_on_commit_callbacks, data, "contacts.xlsx")
    assert job.status == JobStatus.FAILED, job.result
    assert "The file has more than 100 rows; split it into smaller files." in job.result["file_error"]
    assert Contact.objects.count() == 0


def test_a_csv_without_a_header_over_the_row_limit_is_refused(
    admin_client, settings, django_capture_on_commit_callbacks
):
    settings.CRM_IMPORT_MAX_ROWS = 100
    data = csv_bytes(_rows(101))
    job = _outcome(
        admin_client,
        django_capture_on_commit_callbacks,
        data,
        "contacts.csv",
        has_header=False,
        mapping={0: "full_name", 1: "email"},
    )
    assert job.status == JobStatus.FAILED, job.result
    assert "The file has more than 100 rows" in job.result["file_error"]
    assert Contact.objects.count() == 0


def test_an_xlsx_at_the_limit_is_imported(admin_client, settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_MAX_ROWS = 100
    data = xlsx_bytes([["Full name", "Email"], *_rows(100), ["", ""]])  # a blank row is no row
    job = _outcome(admin_client, django_capture_on_commit_callbacks, data, "contacts.xlsx")
    assert job.status == JobStatus.SUCCEEDED, job.result
    assert Contact.objects.count() == 100


def test_a_vcard_file_over_the_limit_is_refused(admin_client, settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_MAX_ROWS = 3
    cards = "".join(f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Person {i}\r\nEND:VCARD\r\n" for i in range(4))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("customers:contact_vcard_import"),
            {"file": upload(cards.encode(), "people.vcf", "text/vcard"), "duplicates": "skip"},
        )
    assert response.status_code == 302, response.content.decode()[:500]
    job = finished_job(response)
    assert job.status == JobStatus.FAILED and "more than 3 rows" in job.result["file_error"]
    assert Contact.objects.count() == 0


def test_a_workbook_damaged_part_way_is_refused_before_anything_is_written(
    admin_client, django_capture_on_commit_callbacks
):
    import io
    import zipfile

    data = xlsx_bytes([["Full name", "Email"], *_rows(200)])
    source, damaged = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            target.writestr(item, body[: len(body) // 2] if item.filename.startswith("xl/worksheets/") else body)
    job = _outcome(admin_client, django_capture_on_commit_callbacks, damaged.getvalue(), "contacts.xlsx")
    assert job.status == JobStatus.FAILED
    assert "damaged after row" in job.result["file_error"] and "nothing was imported" in job.result["file_error"]
    assert Contact.objects.count() == 0
