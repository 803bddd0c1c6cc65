"""``/api/v1/imports/`` and ``/api/v1/exports/``: start a job, follow it, find its file."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from crm.core.testing import api_client, make_user
from crm.customers import services
from crm.customers.io.testing import csv_bytes, media_fixture, upload
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

ROWS = [["Full name", "E-mail", "Notes"], ["Ada Lovelace", "ada@example.com", "x"], ["No Email", "nope", ""]]


def test_import_through_the_api(roles, django_capture_on_commit_callbacks):
    user = make_user(module="customers")
    api = api_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("customers-api:import-list"),
            {"file": upload(csv_bytes(ROWS)), "duplicates": "update"},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "contact_import" and body["params"]["mapping"] == ["full_name", "email", ""]
    detail = api.get(reverse("customers-api:import-detail", args=[body["id"]])).json()
    assert detail["status"] == "succeeded" and detail["result"]["created"] == 1 and detail["result"]["rejected"] == 1
    assert detail["download_url"] == reverse("core:job_download", args=[body["id"]])
    assert [job["id"] for job in api.get(reverse("customers-api:import-list")).json()["results"]] == [body["id"]]


def test_import_with_an_explicit_mapping_and_a_vcard(roles, django_capture_on_commit_callbacks):
    user = make_user(module="customers")
    api = api_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("customers-api:import-list"),
            {"file": upload(csv_bytes(ROWS)), "mapping": json.dumps({"Full name": "full_name", "Notes": "title"})},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert Contact.objects.get(full_name="Ada Lovelace").title == "x" and Contact.objects.count() == 2
    card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace Hopper\r\nEMAIL:grace@example.com\r\nEND:VCARD\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("customers-api:import-list"), {"file": upload(card, "g.vcf")}, format="multipart")
    assert response.status_code == 202 and response.json()["kind"] == "contact_vcard_import"
    assert Contact.objects.filter(email="grace@example.com").exists()


def test_import_api_refuses_bad_input_with_field_errors(roles):
    api = api_client(make_user(module="customers"))
    url = reverse("customers-api:import-list")
    png = upload(b"\x89PNG\r\n\x1a\n" + bytes(100), "x.csv")
    response = api.post(url, {"file": png}, format="multipart")
    assert response.status_code == 400 and "PNG image" in response.json()["errors"]["file"][0]
    response = api.post(url, {"file": upload(csv_bytes(ROWS)), "mapping": '{"E-mail": "email"}'}, format="multipart")
    assert response.status_code == 400 and "mapping" in response.json()["errors"]
    response = api.post(url, {"file": upload(csv_bytes(ROWS)), "mapping": '{"E-mail": "salary"}'}, format="multipart")
    assert response.status_code == 400 and "salary" in str(response.json())
    response = api.post(url, {"file": upload(csv_bytes(ROWS)), "duplicates": "merge"}, format="multipart")
    assert response.status_code == 400 and "duplicates" in response.json()["errors"]
    assert Contact.objects.count() == 0


def test_import_api_needs_create_and_read_only_tokens_cannot(roles):
    from rest_framework.test import APIClient

    from crm.accounts.tests.factories import make_token

    reader = make_user(module="customers", actions=("view",))
    response = api_client(reader).post(
        reverse("customers-api:import-list"), {"file": upload(csv_bytes(ROWS))}, format="multipart"
    )
    assert response.status_code == 403
    writer = make_user(module="customers")
    _token, secret = make_token(writer, read_only=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.post(reverse("customers-api:import-list"), {"file": upload(csv_bytes(ROWS))}, format="multipart")
    assert response.status_code == 403


def test_export_through_the_api_is_scoped(roles, django_capture_on_commit_callbacks):
    me = make_user(module="customers", scope="own")
    services.contact_create(actor=me, data={"full_name": "=SUM(1+1)"})
    services.contact_create(actor=make_user(module="customers", scope="own"), data={"full_name": "Hidden"})
    api = api_client(me)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("customers-api:export-list"), {"model": "contacts", "format": "csv"}, format="json")
    assert response.status_code == 202, response.content
    job = api.get(reverse("customers-api:export-detail", args=[response.json()["id"]])).json()
    assert job["status"] == "succeeded" and job["result"]["rows"] == 1
    from django.test import Client

    browser = Client()
    browser.force_login(me)
    content = b"".join(browser.get(job["download_url"]).streaming_content).decode("utf-8-sig")
    assert "'=SUM(1+1)" in content and "Hidden" not in content


def test_export_api_checks(roles):
    no_export = make_user(module="customers", actions=("view", "create", "edit"))
    url = reverse("customers-api:export-list")
    assert api_client(no_export).post(url, {"model": "contacts"}, format="json").status_code == 403
    api = api_client(make_user(module="customers"))
    response = api.post(url, {"model": "companies", "format": "vcf"}, format="json")
    assert response.status_code == 400 and "format" in response.json()["errors"]
    response = api.post(url, {"model": "contacts", "filters": {"lifecycle_stage": "emperor"}}, format="json")
    assert response.status_code == 400 and "filters" in response.json()["errors"]
    response = api.post(url, {"model": "contacts", "salary": 1}, format="json")
    assert response.status_code == 400 and "salary" in response.json()["errors"]


def test_other_peoples_jobs_are_not_found(roles, django_capture_on_commit_callbacks):
    owner = make_user(module="customers")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(owner).post(reverse("customers-api:export-list"), {"model": "contacts"}, format="json")
    other = api_client(make_user(module="customers"))
    assert other.get(reverse("customers-api:export-detail", args=[response.json()["id"]])).status_code == 404
    assert other.get(reverse("customers-api:import-detail", args=[response.json()["id"]])).status_code == 404
