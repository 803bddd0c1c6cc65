"""The API of activities and tasks: CRUD, data scope, strict input, filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.testing import api_client, make_user
from crm.customers.models import Activity, Company, Contact, Task

pytestmark = pytest.mark.django_db

WRITE = ("view", "create", "edit", "delete")
ACTIVITIES = reverse("customers-api:activity-list")
TASKS = reverse("customers-api:task-list")


def activity_url(pk: int) -> str:
    return reverse("customers-api:activity-detail", args=[pk])


def task_url(pk: int) -> str:
    return reverse("customers-api:task-detail", args=[pk])


def contact_of(owner, **extra) -> Contact:
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=owner, **extra)


def test_activity_crud(roles):
    rep = make_user(module="customers", actions=WRITE)
    colleague = make_user(module="customers")
    ada = contact_of(rep)
    api = api_client(rep)
    start = timezone.now() + timedelta(days=2)
    response = api.post(
        ACTIVITIES,
        {
            "kind": "meeting",
            "subject": "Demo",
            "contact": ada.pk,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "attendees": [colleague.pk],
            "body": "**Agenda** <script>x()</script>",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == rep.pk and body["attendees"] == [colleague.pk]
    assert "<strong>Agenda</strong>" in body["body_html"] and "<script" not in body["body_html"]
    pk = body["id"]

    detail = api.get(activity_url(pk)).json()
    assert detail["kind"] == "meeting" and detail["version"] == 1
    response = api.patch(activity_url(pk), {"location": "Video call", "version": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["location"] == "Video call" and response.json()["version"] == 2
    assert api.delete(activity_url(pk)).status_code == 204
    assert not Activity.objects.filter(pk=pk).exists()


def test_activity_input_is_strict(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    api = api_client(rep)
    response = api.post(
        ACTIVITIES,
        {"kind": "note", "body": "x", "contact": ada.pk, "owner": rep.pk, "body_html": "<b>", "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"owner", "body_html", "colour"}
    response = api.post(ACTIVITIES, {"kind": "note", "body": "x", "contact": ada.pk, "duration": 60}, format="json")
    assert response.status_code == 400 and "duration" in response.json()["errors"]
    response = api.post(ACTIVITIES, {"kind": "note", "body": "x"}, format="json")
    assert response.status_code == 400 and "contact" in response.json()["errors"]
    assert not Activity.objects.exists()


def test_a_hidden_record_looks_like_a_missing_one(roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    hidden = contact_of(other)
    api = api_client(rep)
    hidden_answer = api.post(ACTIVITIES, {"kind": "note", "body": "x", "contact": hidden.pk}, format="json")
    missing_answer = api.post(ACTIVITIES, {"kind": "note", "body": "x", "contact": 999_999}, format="json")
    assert hidden_answer.status_code == missing_answer.status_code == 400
    hidden_message = hidden_answer.json()["errors"]["contact"][0].replace(str(hidden.pk), "N")
    missing_message = missing_answer.json()["errors"]["contact"][0].replace("999999", "N")
    assert hidden_message == missing_message
    response = api.post(
        TASKS, {"title": "x", "company": Company.objects.create(name="H", owner=other).pk}, format="json"
    )
    assert response.status_code == 400 and "company" in response.json()["errors"]


def test_activity_list_is_scoped_and_filtered(roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    bob = contact_of(rep)
    call = Activity.objects.create(kind="call", contact=ada, owner=rep)
    note = Activity.objects.create(kind="note", body="x", company=acme, owner=rep)
    other_note = Activity.objects.create(kind="note", body="x", contact=bob, owner=rep)
    Activity.objects.create(kind="note", body="theirs", contact=contact_of(other), owner=other)
    api = api_client(rep)

    def ids(**params):
        response = api.get(ACTIVITIES, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {call.pk, note.pk, other_note.pk}
    assert ids(kind="note") == {note.pk, other_note.pk}
    assert ids(contact=ada.pk) == {call.pk}
    assert ids(company=acme.pk) == {call.pk, note.pk}  # a company's own and its contacts'
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert ids(occurred_before=later) == {call.pk, note.pk, other_note.pk}
    assert ids(occurred_after=later) == set()


def test_task_crud_and_completion(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    api = api_client(rep)
    due = timezone.now() + timedelta(days=1)
    response = api.post(
        TASKS,
        {"title": "Send quote", "due_at": due.isoformat(), "priority": "high", "contact": ada.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    task = response.json()
    assert task["assignee"] == rep.pk and task["owner"] == rep.pk and task["status"] == "open"
    response = api.patch(task_url(task["id"]), {"status": "done", "version": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done" and response.json()["completed_at"]
    response = api.patch(
        task_url(task["id"]), {"completed_at": timezone.now().isoformat(), "version": 2}, format="json"
    )
    assert response.status_code == 400 and "completed_at" in response.json()["errors"]
    assert api.delete(task_url(task["id"])).status_code == 204


def test_task_assignee_must_be_an_active_colleague_who_sees_customers(roles):
    rep = make_user(module="customers", actions=WRITE)
    colleague = make_user(module="customers")
    outsider = make_user(module="sales")
    api = api_client(rep)
    response = api.post(TASKS, {"title": "x", "assignee": colleague.pk}, format="json")
    assert response.status_code == 201 and response.json()["assignee"] == colleague.pk
    response = api.post(TASKS, {"title": "x", "assignee": outsider.pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()["errors"]
    colleague.is_active = False
    colleague.save()
    response = api.post(TASKS, {"title": "x", "assignee": colleague.pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()["errors"]


def test_task_list_is_scoped_by_assignee_and_filtered(roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    manager = make_user(module="customers", actions=WRITE, scope="all")
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    now = timezone.now()
    # Created by the manager, assigned to the rep: it is the rep's task.
    soon = Task.objects.create(title="soon", assignee=rep, owner=manager, due_at=now + timedelta(hours=2), contact=ada)
    later = Task.objects.create(title="later", assignee=rep, owner=rep, due_at=now + timedelta(days=9), company=acme)
    done = Task.objects.create(title="done", assignee=rep, owner=rep, status="done", completed_at=now)
    managers = Task.objects.create(title="mine", assignee=manager, owner=rep)
    api = api_client(rep)

    def ids(client=api, **params):
        response = client.get(TASKS, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {soon.pk, later.pk, done.pk}
    assert managers.pk in ids(api_client(manager))
    assert ids(status="open") == {soon.pk, later.pk}
    assert ids(assignee=rep.pk) == {soon.pk, later.pk, done.pk}
    assert ids(contact=ada.pk) == {soon.pk}
    assert ids(company=acme.pk) == {soon.pk, later.pk}
    assert ids(due_before=(now + timedelta(days=1)).isoformat()) == {soon.pk}
    assert ids(due_after=(now + timedelta(days=1)).isoformat()) == {later.pk}
    assert api.get(task_url(managers.pk)).status_code == 404
