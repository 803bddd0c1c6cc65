"""The duplicates scan (crm/customers/merging/scanning.py): which pairs it finds and why, that running it
again changes nothing, that dismissed pairs stay dismissed, and that its queries do not grow with the data."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from crm.core.models import Job
from crm.core.registry import platform
from crm.core.testing import make_user
from crm.customers.merging import scanning
from crm.customers.merging import services as merging
from crm.customers.merging.tasks import DUPLICATES_SCAN, duplicates_scan_task
from crm.customers.models import Company, Contact, ContactEmail, ContactPhone, DuplicateCandidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(roles):
    return make_user(module="customers")


def person(owner, name, *, company=None, emails=(), phones=()):
    full = name if not name.isascii() else ""
    first, _, last = name.partition(" ") if name.isascii() else ("", "", "")
    contact = Contact.objects.create(full_name=full, first_name=first, last_name=last, company=company, owner=owner)
    for index, email in enumerate(emails):
        ContactEmail.objects.create(contact=contact, email=email, is_primary=index == 0)
    for index, number in enumerate(phones):
        ContactPhone.objects.create(contact=contact, number=number, is_primary=index == 0)
    return contact


def pairs(entity="contact"):
    field = f"{entity}_a", f"{entity}_b"
    return {
        (getattr(row, f"{field[0]}_id"), getattr(row, f"{field[1]}_id")): (row.reasons, row.score, row.status)
        for row in DuplicateCandidate.objects.filter(entity=entity)
    }


def key(first, second):
    return (min(first.pk, second.pk), max(first.pk, second.pk))


@pytest.fixture
def people(owner):
    acme = Company.objects.create(name="Acme", owner=owner)
    other = Company.objects.create(name="Other", owner=owner)
    return {
        "acme": acme,
        "ada": person(owner, "Ada Lovelace", company=acme, emails=["ada@acme.test"], phones=["+8613812345678"]),
        "ada2": person(owner, "Ada Byron", emails=["ADA@home.test", "ada@acme.test"]),
        "ada3": person(owner, "Augusta King", phones=["+8613812345678"]),
        "john": person(owner, "John Smith", company=acme),
        "jon": person(owner, "Jon Smith", company=acme),
        "jane": person(owner, "Jane Smith", company=acme),
        "wang": person(owner, "王芳", company=acme),
        "wang2": person(owner, "王 芳", company=acme),
        "john_elsewhere": person(owner, "John Smith", company=other),
        "nobody": person(owner, "Grace Hopper", emails=["grace@navy.test"], phones=["+12125550100"]),
    }


def test_contact_pairs_and_their_reasons(people):
    scanning.duplicates_scan()
    found = pairs()
    assert found[key(people["ada"], people["ada2"])][0] == ["email"]
    assert found[key(people["ada"], people["ada3"])][0] == ["phone"]
    reasons, score, status = found[key(people["john"], people["jon"])]
    assert reasons == ["name"] and status == "open" and 40 < score < 70
    assert found[key(people["wang"], people["wang2"])][0] == ["name"]
    assert found[key(people["wang"], people["wang2"])][1] == 70  # the same name, written differently
    # A similar family name is not enough; the same name at another company is someone else.
    assert key(people["john"], people["jane"]) not in found
    assert key(people["john"], people["john_elsewhere"]) not in found
    assert not any(people["nobody"].pk in pair for pair in found)
    assert len(found) == 4


def test_several_reasons_score_higher(owner, people):
    same = person(owner, "Ada Lovelace", company=people["acme"], emails=["ada@acme.test"])
    scanning.duplicates_scan()
    reasons, score, _status = pairs()[key(people["ada"], same)]
    assert reasons == ["email", "name"] and score == 100
    assert pairs()[key(people["ada"], people["ada2"])][1] == 95


def test_company_pairs(owner):
    first = Company.objects.create(name="Acme Ltd", domain="acme.test", owner=owner)
    same_domain = Company.objects.create(name="Acme Trading", domain="acme.test", owner=owner)
    same_phone = Company.objects.create(name="Initech", phone="+12125550100", owner=owner)
    phone_twin = Company.objects.create(name="Initrode", phone="+12125550100", owner=owner)
    same_name = Company.objects.create(name="ACME LTD", owner=owner)
    Company.objects.create(name="Umbrella", domain="umbrella.test", owner=owner)
    scanning.duplicates_scan()
    found = pairs("company")
    assert found == {
        key(first, same_domain): (["domain"], 90, "open"),
        key(same_phone, phone_twin): (["phone"], 85, "open"),
        key(first, same_name): (["name"], 70, "open"),
    }


def test_running_again_changes_nothing_and_dismissed_pairs_stay_dismissed(owner, people):
    scanning.duplicates_scan()
    rows = {row.pk: row for row in DuplicateCandidate.objects.all()}
    dismissed = DuplicateCandidate.objects.get(contact_a=people["ada"], contact_b=people["ada2"])
    merging.duplicate_dismiss(actor=owner, candidate=dismissed)
    scanning.duplicates_scan()
    again = {row.pk: row for row in DuplicateCandidate.objects.all()}
    assert again.keys() == rows.keys()
    assert DuplicateCandidate.objects.get(pk=dismissed.pk).status == "dismissed"
    assert all(again[pk].found_at == rows[pk].found_at for pk in rows)


def test_open_pairs_that_no_longer_match_are_removed_and_new_ones_added(owner, people):
    scanning.duplicates_scan()
    ContactPhone.objects.filter(contact=people["ada3"]).update(number="+8613900000000")
    jon = people["jon"]
    Contact.objects.filter(pk=jon.pk).update(last_name="Smithers", name="Jon Smithers")
    newcomer = person(owner, "Grace Hopper", emails=["grace@navy.test"])
    scanning.duplicates_scan()
    found = pairs()
    assert key(people["ada"], people["ada3"]) not in found
    assert key(people["john"], jon) not in found
    assert found[key(people["nobody"], newcomer)][0] == ["email"]


def test_changed_reasons_are_refreshed(owner, people):
    scanning.duplicates_scan()
    ContactPhone.objects.create(contact=people["ada2"], number="+8613812345678")
    scanning.duplicates_scan()
    reasons, score, _status = pairs()[key(people["ada"], people["ada2"])]
    assert reasons == ["email", "phone"] and score == 100


def test_a_value_shared_by_very_many_records_is_no_sign(owner, people):
    for index in range(scanning.MAX_GROUP + 1):
        person(owner, f"Caller {index}x", phones=["+12125550199"])
    scanning.duplicates_scan()
    assert len(pairs()) == 4


def test_queries_do_not_grow_with_the_data(owner, monkeypatch, django_assert_max_num_queries):
    """Values are grouped in SQL a batch at a time: more data means more batches, not more queries per row."""
    monkeypatch.setattr(scanning, "BATCH", 5)
    acme = Company.objects.create(name="Acme", owner=owner)
    for index in range(12):
        email = f"p{index}@example.com"
        person(owner, f"Pat {uuid.uuid4().hex}", company=acme, emails=[email], phones=[f"+1212555{index:04d}"])
        person(owner, f"Sam {uuid.uuid4().hex}", emails=[email])
    with django_assert_max_num_queries(45) as captured:
        scanning.duplicates_scan()
    assert len(pairs()) == 12
    small = len(captured.captured_queries)
    for index in range(12, 40):
        email = f"p{index}@example.com"
        person(owner, f"Pat {uuid.uuid4().hex}", company=acme, emails=[email])
        person(owner, f"Sam {uuid.uuid4().hex}", emails=[email])
    DuplicateCandidate.objects.all().delete()
    with django_assert_max_num_queries(small + 20):
        scanning.duplicates_scan()
    assert len(pairs()) == 40


def test_one_scan_at_a_time(people):
    from django.core.cache import cache

    cache.add(scanning.LOCK_KEY, "running")
    assert scanning.duplicates_scan() == {"skipped": True}
    assert not DuplicateCandidate.objects.exists()


def test_the_scheduled_task_is_registered_under_its_name(people):
    from config.celery import app

    assert "customers.duplicates_scan_task" in app.tasks
    assert platform.jobs[DUPLICATES_SCAN] is duplicates_scan_task
    result = duplicates_scan_task.delay().get()
    assert result["contacts"]["found"] == 4 and result["contacts"]["new"] == 4


def test_scan_now_runs_a_job_with_progress(client, owner, people, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:duplicate_scan"), {"tab": "contact"})
    job = Job.objects.get(kind=DUPLICATES_SCAN)
    assert response.status_code == 302 and str(job.pk) in response["Location"]
    assert job.status == "succeeded" and job.progress == 100 and job.created_by == owner
    assert job.result["contacts"]["new"] == 4
    page = client.get(response["Location"])
    assert page.status_code == 200 and f'id="job-{job.pk}"' in page.content.decode()


def test_scan_now_needs_edit_permission(client, people):
    reader = make_user(module="customers", actions=("view",))
    client.force_login(reader)
    assert client.post(reverse("customers:duplicate_scan")).status_code == 403
    assert not Job.objects.exists()
