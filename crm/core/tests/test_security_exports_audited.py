"""Every export is in the audit log: who exported what (the model and the filters) and how many rows,
with the action "export": the customers export job (CSV, XLSX, vCard; page and API), one contact as a
vCard, and the audit log's own CSV export."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.choices import ChangeSource, JobStatus, JournalAction
from crm.core.models import JournalEntry
from crm.core.security import audit_chain
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.io.testing import finished_job, media_fixture

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()


@pytest.fixture
def exporter(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def contacts(exporter):
    made = [
        services.contact_create(
            actor=exporter,
            data={"full_name": f"Person {i}", "lifecycle_stage": "customer" if i % 2 else "lead"},
        )
        for i in range(5)
    ]
    other = make_user(module="customers", scope="own")
    services.contact_create(actor=other, data={"full_name": "Not Yours"})
    return made


class _Export:
    def __init__(self, entry: JournalEntry) -> None:
        self.entry = entry
        self.changes = {name: new for name, (_old, new) in entry.changes.items()}

    def __getattr__(self, name: str):
        return getattr(self.entry, name)


def _exports():
    return [_Export(e) for e in JournalEntry.objects.filter(action=JournalAction.EXPORT).order_by("id")]


def _run(client, capture, url, data):
    with capture(execute=True):
        response = client.post(url, data)
    assert response.status_code in {201, 202, 302}, response.content[:500]
    return response


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_filtered_contact_export_is_recorded(client, exporter, contacts, fmt, django_capture_on_commit_callbacks):
    client.force_login(exporter)
    response = _run(
        client,
        django_capture_on_commit_callbacks,
        reverse("customers:contact_export"),
        {"format": fmt, "lifecycle_stage": "customer"},
    )
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    [entry] = _exports()
    assert entry.actor_id == exporter.pk and entry.actor_repr and entry.source == ChangeSource.TASK
    assert entry.content_type.model == "contact" and entry.object_id == str(job.pk)
    assert entry.changes == {
        "model": "customers.contact",
        "format": fmt,
        "rows": 2,
        "filters": {"lifecycle_stage": "customer"},
    }
    assert entry.object_repr == job.result["file_name"]


def test_company_and_vcard_list_exports_are_recorded(client, exporter, contacts, django_capture_on_commit_callbacks):
    services.company_create(actor=exporter, data={"name": "Acme"})
    client.force_login(exporter)
    _run(client, django_capture_on_commit_callbacks, reverse("customers:company_export"), {"format": "csv"})
    _run(client, django_capture_on_commit_callbacks, reverse("customers:contact_vcard_export"), {})
    first, second = _exports()
    assert first.content_type.model == "company" and first.changes["rows"] == 1
    assert second.changes["format"] == "vcf" and second.changes["rows"] == 5


def test_an_export_through_the_api_is_recorded(client, exporter, contacts, django_capture_on_commit_callbacks):
    from crm.accounts.tests.factories import make_token

    _token, secret = make_token(exporter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports/",
            {"model": "contacts", "format": "csv", "filters": {"lifecycle_stage": "lead"}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
    assert response.status_code in {201, 202}, response.content
    [entry] = _exports()
    assert entry.actor_id == exporter.pk and entry.changes["rows"] == 3
    assert entry.changes["filters"] == {"lifecycle_stage": "lead"}


def test_one_contact_as_a_vcard_is_recorded(client, exporter, contacts):
    client.force_login(exporter)
    response = client.get(reverse("customers:contact_vcard", args=[contacts[0].pk]))
    assert response.status_code == 200
    [entry] = _exports()
    assert entry.object_id == str(contacts[0].pk) and entry.content_type.model == "contact"
    assert entry.changes == {"model": "customers.contact", "format": "vcf", "rows": 1, "filters": {}}
    assert entry.source == ChangeSource.WEB and entry.actor_id == exporter.pk


def test_a_refused_export_records_nothing(client, roles, contacts):
    viewer = make_user(module="customers", scope="all", actions=("view",))
    client.force_login(viewer)
    response = client.post(reverse("customers:contact_export"), {"format": "csv"})
    assert response.status_code == 403 and _exports() == []


def test_the_audit_log_export_is_recorded(admin_client, admin_user, contacts, django_capture_on_commit_callbacks):
    _run(
        admin_client,
        django_capture_on_commit_callbacks,
        reverse("core:audit_log_export"),
        {"action": "create"},
    )
    [entry] = _exports()
    assert all(old is None for old, _new in entry.entry.changes.values())
    assert entry.content_type.model == "journalentry" and entry.actor_id == admin_user.pk
    assert entry.changes["filters"] == {"action": "create"} and entry.changes["rows"] >= 6
    # It reads like any other entry on the audit log page, and the chain covers it.
    page = admin_client.get(reverse("core:audit_log"), {"action": "export"})
    assert page.status_code == 200 and "Exported" in page.content.decode()
    audit_chain.seal()
    assert audit_chain.verify().ok
