"""Custom fields in contact imports (mapping targets, typed checks per row, defaults and required
fields) and their way back: an export with custom columns imports again without changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.core.models import JournalEntry
from crm.customers import services
from crm.customers.custom_fields import services as definitions
from crm.customers.io.mapping import guess_mapping, mapping_problems, target_choices
from crm.customers.io.testing import csv_bytes, finished_job, media_fixture, rejected_rows, start_import, upload
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()


@pytest.fixture
def fields(admin_user):
    def add(key, label, kind, **kwargs):
        return definitions.custom_field_create(
            actor=admin_user, entity="contact", key=key, label=label, kind=kind, **kwargs
        )

    return [
        add("language", "Preferred language", "choice", choices=["English", "中文"], default="English"),
        add("budget", "Budget", "money"),
        add("since", "Customer since", "date"),
        add("topics", "Topics", "multi_choice", choices=["Sales", "Support"]),
        add("vip", "VIP", "boolean"),
    ]


def test_custom_fields_are_targets_guessed_by_label_or_key(fields):
    assert guess_mapping(["Name", "preferred language", "BUDGET", "customer_since", "Email", "vip"]) == [
        "full_name",
        "cf_language",
        "cf_budget",
        "cf_since",
        "email",
        "cf_vip",
    ]
    assert ("cf_topics", "Topics") in [(key, str(label)) for key, label in target_choices()]
    assert mapping_problems(["full_name", "cf_budget", "cf_budget"]) == [
        "Two columns are mapped to “Budget”; choose one."
    ]
    assert mapping_problems(["full_name", "cf_nothing"]) == ["“cf_nothing” is not a field that can be imported."]


def test_rows_are_checked_by_type_and_a_bad_value_rejects_the_row(
    admin_client, fields, django_capture_on_commit_callbacks
):
    rows = [
        ["Name", "Preferred language", "Budget", "Customer since", "Topics", "VIP"],
        ["Ada", "中文", "1,5", "", "", ""],
        ["Bob", "english", "1200.50", "2026/3/31", "sales; Support", "是"],
        ["Cy", "French", "", "", "", ""],
        ["Di", "", "", "31.12.2025", "Marketing", "maybe"],
        ["Eve", "", "", "", "", ""],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(rows)), duplicates="create")
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["rejected"] == 3
    bob = Contact.objects.get(name="Bob")
    assert bob.custom == {
        "language": "English",
        "budget": 1200.5,
        "since": "2026-03-31",
        "topics": ["Sales", "Support"],
        "vip": True,
    }
    assert Contact.objects.get(name="Eve").custom == {"language": "English"}  # the default
    reasons = {row[0]: row[1] for row in rejected_rows(job)[1:]}
    assert "Budget: “1,5” is not a number." in reasons["2"]
    assert "Preferred language: “French” is not one of the choices" in reasons["4"]
    assert (
        "Topics: “Marketing” is not one of the choices" in reasons["5"]
        and "VIP: “maybe” is neither yes nor no." in reasons["5"]
    )


def test_the_preview_shows_custom_value_problems(admin_client, fields):
    rows = [["Name", "Budget"], ["Ada", "lots"]]
    response = admin_client.post(
        reverse("customers:contact_import"), {"file": upload(csv_bytes(rows)), "has_header": "on"}
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert "Budget: “lots” is not a number." in page
    assert '<option value="cf_budget" selected>Budget</option>' in page


def test_a_new_contact_without_a_required_value_is_rejected_an_update_is_not(
    admin_client, admin_user, fields, django_capture_on_commit_callbacks
):
    fields[1].required = True
    fields[1].save()
    services.contact_create(
        actor=admin_user, data={"first_name": "Ada", "emails": [{"email": "ada@example.com"}], "custom": {"budget": 5}}
    )
    rows = [
        ["Name", "Email", "Customer since"],
        ["Ada L.", "ada@example.com", "2026-01-01"],
        ["Bob", "bob@example.com", ""],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(rows)), duplicates="update")
    job = finished_job(response)
    assert job.result["updated"] == 1 and job.result["rejected"] == 1 and job.result["created"] == 0
    ada = Contact.objects.get(email="ada@example.com")
    assert ada.custom == {"budget": 5, "language": "English", "since": "2026-01-01"}  # merged, nothing cleared
    [reason] = [row[1] for row in rejected_rows(job)[1:]]
    assert "required fields “Budget”" in reason


def test_an_export_with_custom_columns_imports_back_without_changes(
    client, admin_user, fields, django_capture_on_commit_callbacks
):
    for index, custom in enumerate(
        [
            {
                "language": "中文",
                "budget": "1234.5",
                "since": "2026-03-31",
                "topics": ["Sales", "Support"],
                "vip": True,
            },
            {"language": "English", "vip": False, "budget": "-3"},
            {"language": "English"},
        ]
    ):
        services.contact_create(
            actor=admin_user,
            data={"full_name": f"Person {index}", "emails": [{"email": f"p{index}@example.com"}], "custom": custom},
        )
    client.force_login(admin_user)
    before = JournalEntry.objects.exclude(action="export").count()
    snapshot = list(Contact.objects.order_by("pk").values("pk", "custom", "version"))
    for fmt in ("csv", "xlsx"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("customers:contact_export"), {"format": fmt})
        export = finished_job(response)
        assert export.status == JobStatus.SUCCEEDED, export.error
        with export.result_file.open("rb") as handle:
            data = handle.read()
        with django_capture_on_commit_callbacks(execute=True):
            response = start_import(client, upload(data, f"export.{fmt}"), duplicates="update")
        job = finished_job(response)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result["unchanged"] == 3 and job.result["rejected"] == 0, (fmt, job.result, rejected_rows(job))
    assert JournalEntry.objects.exclude(action="export").count() == before
    assert list(Contact.objects.order_by("pk").values("pk", "custom", "version")) == snapshot


def test_an_import_that_changes_a_custom_value_is_journaled(
    admin_client, admin_user, fields, django_capture_on_commit_callbacks
):
    ada = services.contact_create(
        actor=admin_user, data={"first_name": "Ada", "emails": [{"email": "ada@example.com"}], "custom": {"vip": False}}
    )
    rows = [["Name", "Email", "VIP"], ["Ada", "ada@example.com", "yes"]]
    with django_capture_on_commit_callbacks(execute=True):
        start_import(admin_client, upload(csv_bytes(rows)), duplicates="update")
    ada.refresh_from_db()
    assert ada.custom["vip"] is True
    change = JournalEntry.objects.filter(object_id=str(ada.pk), action="update", source="import").get()
    assert change.changes["custom"][1]["vip"] is True
