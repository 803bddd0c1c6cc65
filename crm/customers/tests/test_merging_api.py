"""API of duplicates and merges: list and dismiss pairs, merge, undo, list merges; scope, permissions and
bad input, in the API's error format."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import make_token
from crm.core.models import JournalEntry
from crm.core.testing import api_client, make_user
from crm.customers import services
from crm.customers.models import Activity, Contact, DuplicateCandidate, Merge

pytestmark = pytest.mark.django_db

DUPLICATES = "/api/v1/duplicates/"
MERGES = "/api/v1/merges/"


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def stranger(roles):
    return make_user(module="customers", scope="own")


def contact(owner, first, last, **data):
    return services.contact_create(actor=owner, data={"first_name": first, "last_name": last, **data})


def pair(first, second, **fields):
    a, b = sorted([first, second], key=lambda record: record.pk)
    return DuplicateCandidate.objects.create(entity="contact", contact_a=a, contact_b=b, reasons=["email"], **fields)


def merge_body(survivor, *others, **extra):
    records = [survivor, *others]
    return {
        "entity": "contact",
        "ids": [record.pk for record in records],
        "survivor": survivor.pk,
        "versions": {str(record.pk): Contact.objects.get(pk=record.pk).version for record in records},
        **extra,
    }


def test_routes_are_named_like_the_rest_of_the_api():
    assert reverse("customers-api:duplicate-list") == DUPLICATES
    assert reverse("customers-api:merge-list") == MERGES
    assert reverse("customers-api:merge-undo", args=[1]) == "/api/v1/merges/1/undo/"


def test_list_pairs_scoped_and_filtered(me, stranger):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    theirs = contact(stranger, "Ada", "Byron")
    shown = pair(ada, twin, score=95)
    pair(ada, theirs, score=99)
    dismissed = pair(twin, contact(me, "Ada", "King"), status="dismissed")
    api = api_client(me)
    rows = api.get(DUPLICATES).json()["results"]
    assert [row["id"] for row in rows] == [shown.pk]
    assert rows[0]["first"]["id"] == ada.pk and rows[0]["second"]["version"] == twin.version
    assert rows[0]["reasons"] == ["email"] and rows[0]["status"] == "open"
    assert [row["id"] for row in api.get(DUPLICATES, {"status": "dismissed"}).json()["results"]] == [dismissed.pk]
    assert api.get(DUPLICATES, {"entity": "company"}).json()["results"] == []
    bad = api.get(DUPLICATES, {"entity": "deal", "status": "maybe"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"entity", "status"}


def test_dismiss(me, stranger):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    candidate = pair(ada, twin)
    assert api_client(stranger).post(f"{DUPLICATES}{candidate.pk}/dismiss/").status_code == 404
    reader = make_user(module="customers", actions=("view",), scope="all")
    assert api_client(reader).post(f"{DUPLICATES}{candidate.pk}/dismiss/").status_code == 403
    response = api_client(me).post(f"{DUPLICATES}{candidate.pk}/dismiss/")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    response = api_client(me).post(f"{DUPLICATES}{candidate.pk}/reopen/")
    assert response.json()["status"] == "open"


def test_merge_undo_and_list(me):
    ada = contact(me, "Ada", "Lovelace", emails=[{"email": "ada@acme.test"}])
    twin = contact(me, "Ada", "Lovelac", title="CTO")
    note = Activity.objects.create(kind="note", body="x", contact=twin, owner=me)
    api = api_client(me)
    response = api.post(MERGES, merge_body(ada, twin, choices={"name": twin.pk}), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["survivor_id"] == ada.pk and body["merged_ids"] == [twin.pk] and body["can_undo"] is True
    assert body["merged_names"] == ["Ada Lovelac"]
    ada.refresh_from_db()
    assert (ada.name, ada.title) == ("Ada Lovelac", "CTO")
    assert Activity.objects.get(pk=note.pk).contact_id == ada.pk
    assert JournalEntry.objects.filter(object_id=str(twin.pk), action="delete", source="api").exists()

    listed = api.get(MERGES).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert api.get(MERGES, {"entity": "company"}).json()["results"] == []

    undone = api.post(f"{MERGES}{body['id']}/undo/")
    assert undone.status_code == 200 and undone.json()["undone_at"] and undone.json()["can_undo"] is False
    assert Contact.objects.get(pk=twin.pk).last_name == "Lovelac"
    assert Activity.objects.get(pk=note.pk).contact_id == twin.pk
    again = api.post(f"{MERGES}{body['id']}/undo/")
    assert again.status_code == 400 and "already undone" in str(again.json()["errors"])


def test_stale_versions_conflict(me):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    body = merge_body(ada, twin)
    services.contact_update(actor=me, contact=twin, data={"title": "CEO"}, version=twin.version)
    response = api_client(me).post(MERGES, body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert Contact.objects.filter(pk=twin.pk).exists() and not Merge.objects.exists()


def test_out_of_scope_records_answer_404(me, stranger):
    ada = contact(me, "Ada", "Lovelace")
    theirs = contact(stranger, "Ada", "Byron")
    body = merge_body(ada, theirs)
    response = api_client(me).post(MERGES, body, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Contact.objects.filter(pk__in=[ada.pk, theirs.pk]).count() == 2


def test_merge_needs_delete_permission_and_a_writing_token(me):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    editor = make_user(module="customers", actions=("view", "create", "edit"), scope="all")
    assert api_client(editor).post(MERGES, merge_body(ada, twin), format="json").status_code == 403
    from rest_framework.test import APIClient

    _token, secret = make_token(me, read_only=True)
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert reader.post(MERGES, merge_body(ada, twin), format="json").status_code == 403
    assert Contact.objects.filter(pk__in=[ada.pk, twin.pk]).count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ids": "twice"}, "ids"),
        ({"ids": "one"}, "ids"),
        ({"ids": ["x", 1]}, "ids"),
        ({"survivor": "other"}, "survivor"),
        ({"versions": None}, "versions"),
        ({"versions": {"abc": 1}}, "versions"),
        ({"choices": {"name": "x"}}, "choices"),
        ({"choices": {"password": "survivor"}}, "choices"),
        ({"entity": "deal"}, "entity"),
        ({"snapshot": {}}, "snapshot"),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_changes_nothing(me, change, field):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    other = contact(me, "Grace", "Hopper")
    body = merge_body(ada, twin)
    (key, value) = next(iter(change.items()))
    value = (
        {
            "twice": [ada.pk, ada.pk],
            "one": [ada.pk],
            "other": other.pk,
        }.get(value, value)
        if isinstance(value, str)
        else value
    )
    if key == "choices" and "password" in value:
        value = {"password": ada.pk}
    if value is None:
        body.pop(key)
    else:
        body[key] = value
    response = api_client(me).post(MERGES, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["errors"], response.json()
    assert Contact.objects.count() == 3 and not Merge.objects.exists()


def test_scan_through_the_api(me, django_capture_on_commit_callbacks):
    contact(me, "Ada", "Lovelace", emails=[{"email": "ada@acme.test"}])
    contact(me, "Ada", "Byron", emails=[{"email": "ada@acme.test"}])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(me).post(f"{DUPLICATES}scan/")
    assert response.status_code == 202 and response.json()["kind"] == "duplicates_scan"
    assert len(api_client(me).get(DUPLICATES).json()["results"]) == 1


def test_lists_take_a_fixed_number_of_queries(me, django_assert_max_num_queries):
    from crm.customers.merging import services as merging

    for index in range(6):
        first, second = contact(me, "Pat", f"Doe{index}"), contact(me, "Pat", f"Roe{index}")
        pair(first, second)
        third = contact(me, "Sam", f"Poe{index}")
        merging.contact_merge(actor=me, ids=[first.pk, third.pk], survivor_id=first.pk)
    api = api_client(me)
    api.get(MERGES)
    with django_assert_max_num_queries(10):
        assert len(api.get(MERGES).json()["results"]) == 6
    with django_assert_max_num_queries(10):
        assert len(api.get(DUPLICATES).json()["results"]) == 6
