"""Importing contacts through the pages: upload, mapping, preview, the job and its summary."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.core.models import JournalEntry
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.io.testing import HEADER, csv_bytes, finished_job, media_fixture, rejected_rows, start_import, upload
from crm.customers.models import Company, Contact, ContactEmail, ContactPhone

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

ROWS = [
    HEADER,
    ["Ada", "Lovelace", "ada@example.com", "+44 20 7946 0018", "Analytical Engines", "Countess"],
    ["Grace", "Hopper", "GRACE@example.com", "(212) 555-0100", "Navy", "Rear Admiral"],
    ["", "", "nobody@example.com", "", "", ""],
    ["Bad", "Email", "not-an-email", "", "", ""],
    ["Bad", "Phone", "phone@example.com", "12", "", ""],
]


def contact_journal() -> JournalEntry:
    return JournalEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact))


def test_upload_map_and_import_creates_contacts_and_rejects_bad_rows(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(ROWS)))
    assert response.status_code == 302, response.content.decode()[:2000]
    job = finished_job(response)
    assert response["Location"] == reverse("customers:contact_import_job", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["rejected"] == 3 and job.result["companies_created"] == 2

    ada = Contact.objects.get(email="ada@example.com")
    assert ada.name == "Ada Lovelace" and ada.owner == admin_user and ada.source == "import"
    assert ada.phone == "+442079460018" and ada.company.name == "Analytical Engines" and ada.title == "Countess"
    assert list(ada.emails.values_list("email", "is_primary")) == [("ada@example.com", True)]
    assert list(ada.phones.values_list("number", "kind", "is_primary")) == [("+442079460018", "mobile", True)]
    grace = Contact.objects.get(email="grace@example.com")  # addresses are stored in lower case
    assert grace.phone == "+12125550100"

    rows = rejected_rows(job)
    assert rows[0][:2] == ["Row", "Problems"] and rows[0][2:] == HEADER
    reasons = {row[0]: row[1] for row in rows[1:]}
    assert set(reasons) == {"4", "5", "6"}
    assert "no name" in reasons["4"]
    assert "not-an-email" in reasons["5"] and "not a valid email" in reasons["5"]
    assert "12" in reasons["6"]

    summary = admin_client.get(reverse("customers:contact_import_job", args=[job.pk])).content.decode()
    assert 'data-count="created">2<' in summary and 'data-count="rejected">3<' in summary
    assert reverse("core:job_download", args=[job.pk]) in summary


# Cells a spreadsheet would run as a formula (or, after a tab or carriage return, might).
DANGEROUS = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3", "\tcmd", "\r=1+1"]


def test_the_rejected_rows_report_is_formula_safe(admin_client, django_capture_on_commit_callbacks):
    rows = [
        [*HEADER, "=Notes"],
        *([value, "Person", "not-an-email", "", value, value, value] for value in DANGEROUS),
        ["Ada", "Lovelace", "+ada@", "", "", "", "@ada"],  # the invalid address itself looks like a formula
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(rows)))
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["rejected"] == len(DANGEROUS) + 1 and job.result["created"] == 0
    assert Contact.objects.count() == 0

    download = admin_client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200
    report = rejected_rows(job)
    assert report == list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert report[0] == ["Row", "Problems", *HEADER, "'=Notes"]
    for row, value in zip(report[1:-1], DANGEROUS, strict=True):
        assert "not a valid email" in row[1], row
        assert row[2:] == ["'" + value, "Person", "not-an-email", "", "'" + value, "'" + value, "'" + value]
    assert report[-1][2:] == ["Ada", "Lovelace", "'+ada@", "", "", "", "'@ada"]
    unsafe = [cell for row in report for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert unsafe == []


def test_changes_are_journaled_with_the_import_path(admin_client, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start_import(admin_client, upload(csv_bytes(ROWS[:3])))
    entries = contact_journal().filter(action="create")
    assert entries.count() == 2
    assert set(entries.values_list("source", flat=True)) == {"import"}
    assert set(entries.values_list("actor", flat=True)) == {admin_user.pk}
    company_entries = JournalEntry.objects.filter(content_type=ContentType.objects.get_for_model(Company))
    assert set(company_entries.values_list("source", flat=True)) == {"import"}


def _existing(owner):
    return services.contact_create(
        actor=owner,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "Mathematician",
            "emails": [{"email": "ada@example.com"}],
            "phones": [{"number": "+44 20 7946 0018"}],
        },
    )


UPDATE_ROWS = [
    ["First name", "Last name", "Email", "Mobile", "Job title", "City"],
    ["Ada", "Lovelace", "ada@example.com", "", "Countess", "London"],
    ["Augusta Ada", "King", "", "+44 20 7946 0018", "", ""],  # same phone
    ["Charles", "Babbage", "charles@example.com", "", "", ""],
]


def test_duplicates_skip(admin_client, admin_user, django_capture_on_commit_callbacks):
    ada = _existing(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(UPDATE_ROWS)), duplicates="skip")
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["skipped"] == 2 and job.result["created"] == 1
    ada.refresh_from_db()
    assert ada.title == "Mathematician" and ada.city == "" and Contact.objects.count() == 2


def test_duplicates_update_fills_in_and_never_clears(admin_client, admin_user, django_capture_on_commit_callbacks):
    ada = _existing(admin_user)
    version = ada.version
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(UPDATE_ROWS)), duplicates="update")
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["updated"] == 2 and job.result["created"] == 1
    ada.refresh_from_db()
    assert ada.title == "Countess" and ada.city == "London"  # filled in from the first row
    assert ada.first_name == "Augusta Ada" and ada.last_name == "King"  # the second row matched by phone
    assert ada.name == "Augusta Ada King" and ada.version == version + 1
    assert list(ada.emails.values_list("email", flat=True)) == ["ada@example.com"]
    assert Contact.objects.count() == 2
    change = contact_journal().filter(object_id=str(ada.pk), action="update").get()
    assert change.source == "import" and change.changes["title"] == ["Mathematician", "Countess"]


def test_an_update_of_several_contacts_changes_each_only_where_its_own_row_says(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    """One batch writes the changed fields of all its contacts at once: a field that only one row
    fills must not reach the others."""
    acme = Company.objects.create(name="Acme", owner=admin_user)
    ada = services.contact_create(
        actor=admin_user,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "Countess",
            "company": acme,
            "lifecycle_stage": "customer",
            "emails": [{"email": "ada@example.com"}],
            "phones": [{"number": "+442079460018"}],
        },
    )
    grace = services.contact_create(
        actor=admin_user,
        data={"first_name": "Grace", "last_name": "Hopper", "emails": [{"email": "grace@example.com"}]},
    )
    rows = [
        HEADER,
        ["Ada", "Lovelace", "ada@example.com", "+44 20 7946 0019", "", ""],  # a second number, nothing else
        ["Grace", "Hopper", "grace@example.com", "", "Navy", "Admiral"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(rows)), duplicates="update")
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["updated"] == 2
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert (ada.name, ada.title, ada.company, ada.lifecycle_stage, ada.phone, ada.email) == (
        "Ada Lovelace",
        "Countess",
        acme,
        "customer",
        "+442079460018",
        "ada@example.com",
    )
    assert sorted(ada.phones.values_list("number", flat=True)) == ["+442079460018", "+442079460019"]
    assert grace.title == "Admiral" and grace.company.name == "Navy" and grace.name == "Grace Hopper"
    assert not contact_journal().filter(object_id=str(ada.pk), action="update").exists()


def test_duplicates_create(admin_client, admin_user, django_capture_on_commit_callbacks):
    _existing(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(UPDATE_ROWS)), duplicates="create")
    job = finished_job(response)
    assert job.result["created"] == 3 and job.result["skipped"] == 0
    assert Contact.objects.filter(email="ada@example.com").count() == 2


def test_reimporting_the_same_file_with_update_changes_nothing(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    rows = [
        [*HEADER, "Lifecycle stage", "Date of birth", "Country"],
        [
            "Ada",
            "Lovelace",
            "ada@example.com",
            "+44 20 7946 0018",
            "Engines",
            "Countess",
            "Customer",
            "1985-12-10",
            "GB",
        ],
        ["Ada", "Lovelace", "ada@example.com; ada@home.example", "", "Engines", "", "", "", ""],  # same person again
        ["芳", "王", "wang@example.cn", "+86 138 1234 5678", "华为", "经理", "客户", "1990/5/1", "中国"],
        ["Grace", "Hopper", "", "", "Navy", "", "", "", ""],
    ]
    data = csv_bytes(rows)
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(data), duplicates="update")
    first = finished_job(response)
    assert first.status == JobStatus.SUCCEEDED, first.error
    assert first.result["created"] == 3 and first.result["rejected"] == 0, (first.result, rejected_rows(first))
    journal_before = JournalEntry.objects.count()
    snapshot = list(Contact.objects.order_by("pk").values())
    channels = (list(ContactEmail.objects.order_by("pk").values()), list(ContactPhone.objects.order_by("pk").values()))

    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(data), duplicates="update")
    second = finished_job(response)
    assert second.status == JobStatus.SUCCEEDED, second.error
    assert second.result["created"] == 0 and second.result["updated"] == 0 and second.result["unchanged"] == 4
    assert second.result["companies_created"] == 0
    assert JournalEntry.objects.count() == journal_before
    assert list(Contact.objects.order_by("pk").values()) == snapshot
    assert (list(ContactEmail.objects.order_by("pk").values()), list(ContactPhone.objects.order_by("pk").values())) == (
        channels
    )
    wang = Contact.objects.get(email="wang@example.cn")
    assert wang.lifecycle_stage == "customer" and wang.country == "CN" and str(wang.date_of_birth) == "1990-05-01"
    assert wang.phone == "+8613812345678" and wang.company.name == "华为" and wang.name == "王芳"


def test_rows_only_match_contacts_the_importer_can_see(client, roles, django_capture_on_commit_callbacks):
    me = make_user(module="customers", scope="own")
    other = make_user(module="customers", scope="own")
    theirs = _existing(other)
    client.force_login(me)
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(client, upload(csv_bytes(UPDATE_ROWS[:2])), duplicates="update")
    job = finished_job(response)
    assert job.result["created"] == 1 and job.result["updated"] == 0
    theirs.refresh_from_db()
    assert theirs.title == "Mathematician"  # nothing of someone else's changed
    assert Contact.objects.filter(owner=me, email="ada@example.com").exists()


def test_update_of_a_contact_the_importer_may_not_edit_is_rejected(client, roles, django_capture_on_commit_callbacks):
    from crm.accounts.tests.factories import RoleFactory, UserFactory

    owner = make_user(module="customers", scope="own")
    theirs = _existing(owner)
    # Sees every contact, edits only their own.
    role = RoleFactory(permissions={"customers": ["view", "create", "edit"]}, data_scope="all")
    me = UserFactory(role=role)
    client.force_login(me)
    from unittest import mock

    from crm.core import access

    real = access.scope_queryset

    def edit_own_only(queryset, user, *, action="view"):
        result = real(queryset, user, action=action)
        return result.filter(owner=user) if action == "edit" and user == me else result

    with mock.patch.object(access, "scope_queryset", edit_own_only), django_capture_on_commit_callbacks(execute=True):
        response = start_import(client, upload(csv_bytes(UPDATE_ROWS[:2])), duplicates="update")
    job = finished_job(response)
    assert job.result["rejected"] == 1 and job.result["updated"] == 0
    assert "may not edit" in rejected_rows(job)[1][1]
    theirs.refresh_from_db()
    assert theirs.title == "Mathematician"


def test_import_needs_the_create_permission(client, roles):
    reader = make_user(module="customers", actions=("view",))
    client.force_login(reader)
    assert client.get(reverse("customers:contact_import")).status_code == 403
    response = client.post(reverse("customers:contact_import"), {"file": upload(csv_bytes(ROWS))})
    assert response.status_code == 403
    assert client.get(reverse("customers:contact_vcard_import")).status_code == 403


def test_update_policy_needs_the_edit_permission(client, roles, django_capture_on_commit_callbacks):
    creator = make_user(module="customers", actions=("view", "create"))
    client.force_login(creator)
    response = start_import(client, upload(csv_bytes(ROWS[:2])), duplicates="update")
    assert response.status_code == 400
    assert "may not edit" in response.content.decode()


def test_someone_elses_import_is_not_found(client, admin_client, roles, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(csv_bytes(ROWS[:2])))
    job = finished_job(response)
    client.force_login(make_user(module="customers"))
    assert client.get(reverse("customers:contact_import_job", args=[job.pk])).status_code == 404


def test_summary_fragment_polls_until_the_import_ends(admin_client, admin_user):
    from crm.core.models import Job

    job = Job.objects.create(
        kind="contact_import",
        created_by=admin_user,
        status=JobStatus.RUNNING,
        progress=30,
        params={"file_name": "x.csv"},
    )
    url = reverse("customers:contact_import_job", args=[job.pk])
    fragment = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'hx-trigger="every 1s"' in fragment and "30%" in fragment
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, result={"created": 5})
    fragment = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and 'data-count="created">5<' in fragment
    export = Job.objects.create(kind="contact_export", created_by=admin_user)
    assert admin_client.get(reverse("customers:contact_import_job", args=[export.pk])).status_code == 404


def test_list_actions_partial(rf, admin_user):
    from django.template.loader import render_to_string

    request = rf.get("/contacts/", {"lifecycle_stage": "lead", "page": "2"})
    request.user = admin_user
    html = render_to_string(
        "customers/io/partials/_list_actions.html",
        {"can_import": True, "can_export": True, "model": "contacts"},
        request=request,
    )
    assert reverse("customers:contact_import") in html and reverse("customers:contact_vcard_export") in html
    assert 'name="lifecycle_stage" value="lead"' in html and 'name="page"' not in html
