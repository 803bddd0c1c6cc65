"""Privacy requests: permission, export contents, erasure, suppression, resuming, due dates, pages."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from crm.core import privacy
from crm.core.models import Attachment, JournalEntry
from crm.core.testing import api_client, make_user
from crm.customers.io.testing import HEADER, csv_bytes, finished_job, media_fixture, rejected_rows, start_import, upload
from crm.customers.models import Activity, Contact, ContactEmail, ContactPhone, Task
from crm.dataprotection import erasure, services
from crm.dataprotection.choices import RequestStatus
from crm.dataprotection.models import ErasureRecord, PrivacyRequest, SuppressedEmail
from crm.sales.models import Deal, Lead

from .helpers import EMAIL, PHONE, SECOND_EMAIL, make_person

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()


def run(request, user, capture):
    with capture(execute=True):
        services.privacy_request_start(actor=user, request=request)
    request.refresh_from_db()
    return request


def new_request(user, kind, obj, subject_kind="contact"):
    return services.privacy_request_create(actor=user, kind=kind, subject_kind=subject_kind, subject_id=obj.pk)


# --- permission ----------------------------------------------------------------------------------------


def test_without_the_permission_pages_and_api_refuse_and_the_privacy_link_is_hidden(client, admin_user, roles):
    person = make_person(admin_user)
    request = new_request(admin_user, "export", person["contact"])
    rep = make_user(module="customers", actions=("view", "edit"))
    client.force_login(rep)
    for url in (
        reverse("dataprotection:request_list"),
        reverse("dataprotection:request_create"),
        reverse("dataprotection:request_detail", args=[request.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("dataprotection:request_start", args=[request.pk])).status_code == 403
    page = client.get(person["contact"].get_absolute_url()).content.decode()
    assert 'data-testid="privacy-link"' not in page
    api = api_client(rep)
    assert api.get("/api/v1/privacy-requests/").status_code == 403
    assert (
        api.post(
            "/api/v1/privacy-requests/", {"kind": "erase", "subject_kind": "contact", "subject_id": 1}, format="json"
        ).status_code
        == 403
    )
    assert api.post(f"/api/v1/privacy-requests/{request.pk}/start/").status_code == 403

    client.force_login(admin_user)
    page = client.get(person["contact"].get_absolute_url()).content.decode()
    assert 'data-testid="privacy-link"' in page and f"subject=contact:{person['contact'].pk}" in page


def test_only_administrators_get_the_permission_by_default(roles):
    assert "dataprotection" in roles["administrator"].permissions
    assert roles["administrator"].permissions["dataprotection"]
    for slug, role in roles.items():
        if slug != "administrator":
            assert not role.permissions.get("dataprotection"), slug


# --- export --------------------------------------------------------------------------------------------


def test_the_export_holds_every_declared_kind_the_files_and_the_journal(admin_user, django_capture_on_commit_callbacks):
    person = make_person(admin_user)
    request = run(new_request(admin_user, "export", person["contact"]), admin_user, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.DONE, request.outcome
    assert request.job.result_file
    with request.job.result_file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    names = archive.namelist()
    assert "data.json" in names and "summary.html" in names
    data = json.loads(archive.read("data.json"))
    assert set(data["records"]) == {d.key for d in privacy.privacy.declarations("contact")}
    records = data["records"]
    assert [row["email"] for row in records["contact:customers.contactemail"]["rows"]] == [EMAIL, SECOND_EMAIL]
    assert records["contact:customers.contactphone"]["rows"][0]["number"] == PHONE
    assert records["contact:customers.activity"]["rows"][0]["body"] == "Ada likes engines"
    assert records["contact:customers.task"]["rows"][0]["title"] == "Call Ada Lovelace"
    assert records["contact:sales.lead"]["rows"][0]["id"] == person["lead"].pk  # found by the email address
    assert records["contact:sales.lead-activities"]["rows"][0]["body"] == "Lead Ada called"
    assert records["contact:sales.deal"]["rows"][0]["amount"] == "1200.00"
    assert records["contact:customers.contact"]["rows"][0]["title"] == "Mathematician"
    (attachment,) = data["attachments"]
    assert attachment["name"] == "passport-ada.txt" and attachment["path"] in names
    assert archive.read(attachment["path"]) == default_storage.open(person["attachment"].file.name).read()
    changed = [e for e in data["journal"] if e["record"] == "customers.contact" and e["action"] == "update"]
    assert any(e["changes"].get("title") == ["Countess", "Mathematician"] for e in changed)
    summary = archive.read("summary.html").decode()
    assert "Ada Lovelace" in summary and "passport-ada.txt" in summary and EMAIL in summary
    assert request.outcome["counts"]["attachments"] == 1


def test_the_export_downloads_for_the_person_who_ran_it_only(
    client, admin_user, roles, django_capture_on_commit_callbacks
):
    from crm.accounts.tests.factories import UserFactory

    person = make_person(admin_user)
    request = run(new_request(admin_user, "export", person["contact"]), admin_user, django_capture_on_commit_callbacks)
    url = reverse("dataprotection:request_download", args=[request.pk])
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    request.refresh_from_db()
    assert request.outcome["downloads"][0]["by"] == admin_user.pk  # the export is on record
    other_admin = UserFactory(username="other", role=roles["administrator"])
    client.force_login(other_admin)
    assert client.get(url).status_code == 404
    assert api_client(other_admin).get(f"/api/v1/privacy-requests/{request.pk}/download/").status_code == 404
    assert api_client(admin_user).get(f"/api/v1/privacy-requests/{request.pk}/download/").status_code == 200


# --- erasure -------------------------------------------------------------------------------------------


def _journal_text() -> str:
    return json.dumps(list(JournalEntry.objects.values("object_repr", "changes")), ensure_ascii=False)


def test_erasure_leaves_nothing_of_the_person_and_keeps_the_figures(admin_user, django_capture_on_commit_callbacks):
    person = make_person(admin_user)
    contact = person["contact"]
    file_name = person["attachment"].file.name
    assert "Ada likes engines" in _journal_text() and EMAIL in _journal_text()
    request = run(new_request(admin_user, "erase", contact), admin_user, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.DONE, request.outcome

    contact.refresh_from_db()
    assert contact.name == "Erased person" and contact.first_name == "" and contact.last_name == ""
    assert contact.email == "" and contact.phone == "" and contact.street == "" and contact.city == ""
    assert contact.title == "" and contact.date_of_birth is None and contact.custom == {}
    assert not ContactEmail.objects.filter(contact=contact).exists()
    assert not ContactPhone.objects.filter(contact=contact).exists()
    assert not Attachment.objects.exists() and not default_storage.exists(file_name)
    for activity in Activity.objects.all():
        assert "Ada" not in activity.body and "Ada" not in activity.subject
    assert Activity.objects.count() == 2  # counted, not deleted
    task = Task.objects.get()
    assert "Ada" not in task.title and task.notes == ""
    lead = Lead.objects.get()
    assert lead.name == "Erased person" and lead.email == "" and lead.notes == ""
    deal = Deal.objects.get()
    assert deal.amount == person["deal"].amount and list(deal.contacts.all()) == [contact]

    text = _journal_text()
    for value in ("Ada", "Lovelace", EMAIL, SECOND_EMAIL, PHONE, "engines", "passport", "James"):
        assert value not in text, value
    contact_type = ContentType.objects.get_for_model(Contact)
    entries = JournalEntry.objects.filter(content_type=contact_type, object_id=str(contact.pk))
    assert entries.exists() and all(entry.changes.get("erased") is True for entry in entries)
    assert request.subject_label == "Erased person"

    assert privacy.is_suppressed(EMAIL) and privacy.is_suppressed(" Ada@Home.Example ")
    assert not privacy.is_suppressed("someone.else@example.com")
    stored = json.dumps(list(SuppressedEmail.objects.values()) + list(ErasureRecord.objects.values()), default=str)
    assert EMAIL not in stored and "ada" not in stored.lower().replace("erasure", "")
    assert ErasureRecord.objects.filter(subject_kind="contact", subject_id=contact.pk).exists()


def test_an_erased_address_is_refused_by_the_imports_and_gets_no_consent_from_a_web_form(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    from crm.customers.io.importing import SourceRow
    from crm.sales.leads.io.importing import LeadImporter
    from crm.sales.webforms import services as webform_services

    person = make_person(admin_user)
    run(new_request(admin_user, "erase", person["contact"]), admin_user, django_capture_on_commit_callbacks)

    rows = [
        HEADER,
        ["Ada", "Lovelace", EMAIL.upper(), "", "", ""],
        ["Grace", "Hopper", "grace@example.com", "", "", ""],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(rows)))
    job = finished_job(response)
    assert job.result["created"] == 1 and job.result["rejected"] == 1
    reasons = {row[0]: row[1] for row in rejected_rows(job)[1:]}
    assert "asked to be erased" in reasons["2"]
    assert not Contact.objects.filter(emails__email=EMAIL).exists()

    importer = LeadImporter(user=admin_user)
    rejected = importer.import_batch(
        [SourceRow(number=2, cells=["Ada", EMAIL], values={"name": "Ada", "email": EMAIL})]
    )
    assert rejected and "asked to be erased" in rejected[0][1][0]

    form = webform_services.lead_form_create(
        actor=admin_user, data={"name": "Contact us", "fields": ["name", "email"], "double_opt_in": False}
    )
    lead = webform_services.web_form_submit(form=form, data={"name": "Ada", "email": EMAIL}, consent=True)
    assert not lead.marketing_consent and lead.consent_confirmed_at is None
    other = webform_services.web_form_submit(form=form, data={"name": "Grace", "email": "g@example.com"}, consent=True)
    assert other.marketing_consent


def test_a_lead_is_erased_with_its_activities(admin_user, django_capture_on_commit_callbacks):
    person = make_person(admin_user)
    lead = person["lead"]
    request = run(new_request(admin_user, "erase", lead, "lead"), admin_user, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.DONE
    lead.refresh_from_db()
    assert lead.name == "Erased person" and lead.email == ""
    person["lead_note"].refresh_from_db()
    assert "Ada" not in person["lead_note"].body
    assert privacy.is_suppressed(EMAIL)
    person["contact"].refresh_from_db()
    assert person["contact"].name == "Ada Lovelace"  # another person's record is not touched


# --- resuming ------------------------------------------------------------------------------------------


def test_an_erasure_of_a_person_in_thousands_of_records_fails_midway_and_resumes(
    admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    person = make_person(admin_user)
    contact = person["contact"]
    Activity.objects.bulk_create(
        [Activity(kind="note", body=f"Ada note {n}", contact=contact, owner=admin_user) for n in range(2000)]
    )
    real = erasure._erase_batch
    calls = {"n": 0}

    def failing(key, mode, batch):
        calls["n"] += 1
        if calls["n"] == 6:  # files, leads, their activities, then the contact's activities: 2 of 5 batches done
            raise RuntimeError("storage went away")
        real(key, mode, batch)

    monkeypatch.setattr(erasure, "_erase_batch", failing)
    request = new_request(admin_user, "erase", contact)
    request = run(request, admin_user, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.FAILED
    assert request.outcome["failed_step"] == "erase" and "storage went away" in request.outcome["error"]
    assert request.state["done"]["contact:customers.activity"] == 1000  # two batches of 500 kept
    remaining = Activity.objects.filter(contact=contact, body__startswith="Ada").count()
    assert 0 < remaining < 2001

    monkeypatch.setattr(erasure, "_erase_batch", real)
    request = run(request, admin_user, django_capture_on_commit_callbacks)  # "Resume"
    assert request.status == RequestStatus.DONE, request.outcome
    assert not Activity.objects.filter(body__contains="Ada").exists()
    assert Activity.objects.filter(contact=contact).count() == 2001
    assert "Ada note" not in _journal_text()
    assert request.job.progress == 100
    assert request.outcome["counts"]["contact:customers.activity"] == 2001


def test_resume_from_the_page_after_a_failure(
    admin_client, admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    person = make_person(admin_user)
    monkeypatch.setattr(erasure, "scrub_journal", lambda **kwargs: 1 / 0)
    request = run(new_request(admin_user, "erase", person["contact"]), admin_user, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.FAILED and request.outcome["failed_step"] == "journal"
    page = admin_client.get(request.get_absolute_url()).content.decode()
    assert 'data-testid="failed"' in page and "Resume" in page
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("dataprotection:request_start", args=[request.pk]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and "Ada" not in _journal_text()


def test_erasures_are_applied_again_after_a_restore(admin_user, django_capture_on_commit_callbacks):
    person = make_person(admin_user)
    contact = person["contact"]
    run(new_request(admin_user, "erase", contact), admin_user, django_capture_on_commit_callbacks)
    assert services.reapply_erasures() == 0  # nothing came back
    # An older backup restored: the person's data is back, the suppression list is empty.
    Contact.objects.filter(pk=contact.pk).update(first_name="Ada", name="Ada Lovelace")
    ContactEmail.objects.create(contact=contact, email=EMAIL, is_primary=True)
    SuppressedEmail.objects.all().delete()
    assert services.reapply_erasures() == 1
    contact.refresh_from_db()
    assert contact.name == "Erased person" and not contact.emails.exists()
    assert privacy.is_suppressed(EMAIL)


# --- due dates, pages, API -----------------------------------------------------------------------------


def test_requests_are_due_in_30_days_and_overdue_ones_are_highlighted(admin_client, admin_user):
    person = make_person(admin_user)
    fresh = new_request(admin_user, "export", person["contact"])
    assert timedelta(days=29, hours=23) < fresh.due_at - fresh.created_at <= timedelta(days=30, seconds=1)
    late = new_request(admin_user, "correct", person["contact"])
    PrivacyRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    page = admin_client.get(reverse("dataprotection:request_list")).content.decode()
    assert page.count('data-testid="overdue"') == 1 and "Overdue" in page
    page = admin_client.get(reverse("dataprotection:request_list") + "?kind=export").content.decode()
    assert 'data-testid="overdue"' not in page
    page = admin_client.get(reverse("dataprotection:request_list") + "?status=done").content.decode()
    assert "No request matches these filters." in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pages_render_in_english_and_chinese(admin_client, admin_user, language):
    person = make_person(admin_user)
    request = new_request(admin_user, "correct", person["contact"])
    admin_client.cookies["django_language"] = language
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    urls = [
        reverse("dataprotection:request_list"),
        reverse("dataprotection:request_create") + "?q=ada",
        reverse("dataprotection:request_create") + f"?subject=contact:{person['contact'].pk}",
        request.get_absolute_url(),
    ]
    for url in urls:
        response = admin_client.get(url, **headers)
        assert response.status_code == 200, url
    assert "Ada Lovelace" in admin_client.get(urls[1], **headers).content.decode()


def test_a_request_is_recorded_from_the_page_and_a_correction_is_closed(admin_client, admin_user):
    person = make_person(admin_user)
    contact = person["contact"]
    url = reverse("dataprotection:request_create")
    response = admin_client.post(url, {"kind": "correct", "subject": "", "notes": ""})
    assert response.status_code == 400 and "Choose the person" in response.content.decode()
    assert not PrivacyRequest.objects.exists()
    response = admin_client.post(url, {"kind": "correct", "subject": f"contact:{contact.pk}", "notes": "By letter"})
    assert response.status_code == 302
    request = PrivacyRequest.objects.get()
    assert request.requested_by == admin_user and request.subject_label == "Ada Lovelace"
    from crm.customers import services as customer_services

    customer_services.contact_update(
        actor=admin_user, contact=contact, data={"title": "Analyst"}, version=contact.version
    )
    page = admin_client.get(request.get_absolute_url()).content.decode()
    assert contact.get_absolute_url() in page
    response = admin_client.post(reverse("dataprotection:request_close", args=[request.pk]), {"notes": ""})
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    admin_client.post(reverse("dataprotection:request_close", args=[request.pk]), {"notes": "Title fixed"})
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and request.outcome["corrected"] == "Title fixed"
    assert request.outcome["journal_entries"]


def test_the_api_creates_starts_and_lists_requests(admin_user, django_capture_on_commit_callbacks):
    person = make_person(admin_user)
    api = api_client(admin_user)
    bad = api.post(
        "/api/v1/privacy-requests/", {"kind": "erase", "subject_kind": "robot", "subject_id": 1}, format="json"
    )
    assert bad.status_code == 400 and "subject_kind" in bad.json()["errors"]
    missing = api.post(
        "/api/v1/privacy-requests/", {"kind": "erase", "subject_kind": "contact", "subject_id": 999999}, format="json"
    )
    assert missing.status_code == 400 and "subject" in missing.json()["errors"]
    created = api.post(
        "/api/v1/privacy-requests/",
        {"kind": "export", "subject_kind": "contact", "subject_id": person["contact"].pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "open" and created.json()["due_at"]
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/privacy-requests/{pk}/start/")
    assert started.status_code == 202
    detail = api.get(f"/api/v1/privacy-requests/{pk}/").json()
    assert detail["status"] == "done" and detail["outcome"]["counts"]["attachments"] == 1
    assert [item["id"] for item in api.get("/api/v1/privacy-requests/").json()["results"]] == [pk]


def test_the_lead_page_has_the_privacy_box_for_those_with_the_permission(client, roles, admin_user):
    from django.urls import reverse

    from crm.core.testing import make_user
    from crm.sales.tests.factories import make_lead

    lead = make_lead(owner=admin_user, name="Lee Lead", email="lee@example.com")
    client.force_login(admin_user)
    body = client.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="privacy-panel"' in body and "subject=lead:" in body
    rep = make_user(module="sales")
    client.force_login(rep)
    lead.owner = rep
    lead.save(update_fields=["owner"])
    assert (
        'data-testid="privacy-panel"' not in client.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    )
