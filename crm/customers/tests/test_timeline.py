"""The timeline of a company or contact: activities and journal changes, newest first, filtered, loaded
page by page without gaps or repeats, scoped, and the panel's forms."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from crm.core.models import JournalEntry
from crm.core.registry import platform
from crm.core.testing import make_user
from crm.customers.activities import panels
from crm.customers.activities.timeline import Cursor, timeline_page
from crm.customers.models import Activity, Company, Contact, Task

pytestmark = pytest.mark.django_db

WRITE = ("view", "create", "edit", "delete")
HTMX = {"HTTP_HX_REQUEST": "true"}
ITEM = re.compile(r'id="(activity|change)-(\d+)"')
MORE = re.compile(r'hx-get="([^"]*after=[^"]*)"')


def contact_of(owner, **extra) -> Contact:
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=owner, **extra)


def timeline_url(obj) -> str:
    return reverse(f"customers:{obj._meta.model_name}_timeline", args=[obj.pk])


def items(content: bytes) -> list[tuple[str, int]]:
    return [(kind, int(pk)) for kind, pk in ITEM.findall(content.decode())]


def walk(client, url: str) -> list[tuple[str, int]]:
    """Every item of a timeline, following the "load more" marker as htmx would."""
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    seen = items(response.content)
    pages = 1
    while match := MORE.search(response.content.decode()):
        response = client.get(html.unescape(match.group(1)), **HTMX)
        assert response.status_code == 200
        seen += items(response.content)
        pages += 1
        assert pages < 50
    return seen


def test_shows_activities_and_changes_newest_first(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)  # its creation is a change in the journal
    now = timezone.now()
    old_call = Activity.objects.create(kind="call", contact=ada, owner=rep, occurred_at=now - timedelta(days=3))
    note = Activity.objects.create(kind="note", body="**Hello**", contact=ada, owner=rep, occurred_at=now)
    Contact.objects.filter(pk=ada.pk).update(title="CTO")  # a change, journaled now
    client.force_login(rep)

    content = client.get(timeline_url(ada), **HTMX).content
    found = items(content)
    change_ids = list(
        JournalEntry.objects.filter(object_id=str(ada.pk), content_type__model="contact")
        .order_by("-id")
        .values_list("id", flat=True)
    )
    created, updated = change_ids[1], change_ids[0]
    assert found == [("change", updated), ("activity", note.pk), ("change", created), ("activity", old_call.pk)]
    text = content.decode()
    assert "<strong>Hello</strong>" in text and "CTO" in text


def test_filter_by_type(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    note = Activity.objects.create(kind="note", body="n", contact=ada, owner=rep)
    call = Activity.objects.create(kind="call", contact=ada, owner=rep)
    email = Activity.objects.create(kind="email", subject="s", contact=ada, owner=rep)
    client.force_login(rep)
    url = timeline_url(ada)
    assert items(client.get(url + "?type=note", **HTMX).content) == [("activity", note.pk)]
    both = items(client.get(url + "?type=call&type=email", **HTMX).content)
    assert both == [("activity", email.pk), ("activity", call.pk)]
    changes = items(client.get(url + "?type=change", **HTMX).content)
    assert changes and {kind for kind, _pk in changes} == {"change"}
    unknown = items(client.get(url + "?type=bogus", **HTMX).content)
    assert len(unknown) == 3 + len(changes)  # an unknown filter shows everything


def test_load_more_has_no_gaps_and_no_repeats(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    base = timezone.now() - timedelta(days=1)
    activities = []
    for index in range(47):
        # several items share each instant, so the order must break ties the same way every time
        activities.append(
            Activity(
                kind="note", body=f"n{index}", contact=ada, owner=rep, occurred_at=base - timedelta(minutes=index // 4)
            )
        )
    Activity.objects.bulk_create(activities)
    for index in range(6):
        Contact.objects.filter(pk=ada.pk).update(title=f"T{index}")
    # changes at exactly the same instants as some activities
    for entry, when in zip(
        JournalEntry.objects.filter(object_id=str(ada.pk), content_type__model="contact"),
        [base, base - timedelta(minutes=2), base - timedelta(minutes=5)],
        strict=False,
    ):
        JournalEntry.objects.filter(pk=entry.pk).update(timestamp=when)
    client.force_login(rep)

    seen = walk(client, timeline_url(ada))
    expected_activities = set(Activity.objects.filter(contact=ada).values_list("pk", flat=True))
    expected_changes = set(
        JournalEntry.objects.filter(object_id=str(ada.pk), content_type__model="contact").values_list("pk", flat=True)
    )
    assert len(seen) == len(set(seen)) == len(expected_activities) + len(expected_changes)
    assert {pk for kind, pk in seen if kind == "activity"} == expected_activities
    assert {pk for kind, pk in seen if kind == "change"} == expected_changes

    # the same order as one big page
    whole = timeline_page(user=rep, obj=ada, limit=1000)
    assert [(item.source, item.pk) for item in whole.items] == seen
    assert whole.next_cursor is None

    notes_only = walk(client, timeline_url(ada) + "?type=note")
    assert {pk for _kind, pk in notes_only} == expected_activities and len(notes_only) == 47


def test_a_company_timeline_includes_its_contacts_activities(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    elsewhere = contact_of(rep)
    own = Activity.objects.create(kind="meeting", subject="Kick-off", company=acme, owner=rep, starts_at=timezone.now())
    contacts = Activity.objects.create(kind="call", contact=ada, owner=rep)
    Activity.objects.create(kind="call", contact=elsewhere, owner=rep)
    client.force_login(rep)
    response = client.get(timeline_url(acme) + "?type=call&type=meeting", **HTMX)
    assert {pk for _kind, pk in items(response.content)} == {own.pk, contacts.pk}
    assert "Ada Lovelace" in response.content.decode()  # whose call it was


def test_a_company_timeline_hides_activities_of_its_contacts_outside_the_scope(client, roles):
    """A contact at my company that I may not see: its activities stay out of the company's timeline."""
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    secret = Contact.objects.create(first_name="Grace", last_name="Hidden", owner=other, company=acme)
    own = Activity.objects.create(kind="note", body="About Acme itself", company=acme, owner=rep)
    visible = Activity.objects.create(kind="call", subject="Call with Ada", contact=ada, owner=rep)
    by_other = Activity.objects.create(kind="note", body="Ada, by a colleague", contact=ada, owner=other)
    hidden = [
        Activity.objects.create(kind="call", subject="Confidential call", contact=secret, owner=other),
        Activity.objects.create(kind="note", body="Confidential note", contact=secret, owner=other),
    ]
    client.force_login(rep)
    url = timeline_url(acme)

    shown = {pk for kind, pk in walk(client, url) if kind == "activity"}
    assert shown == {own.pk, visible.pk, by_other.pk}
    filtered = client.get(url + "?type=call&type=note", **HTMX)
    assert {pk for _kind, pk in items(filtered.content)} == {own.pk, visible.pk, by_other.pk}
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert {pk for kind, pk in items(page.content) if kind == "activity"} == {own.pk, visible.pk, by_other.pk}
    detail = client.get(acme.get_absolute_url()).content.decode()
    for content in (filtered.content.decode(), page.content.decode(), detail):
        assert "Call with Ada" in content and "Ada Lovelace" in content
        assert "Confidential" not in content and "Grace Hidden" not in content
        assert secret.get_absolute_url() not in content
        assert all(f'id="activity-{activity.pk}"' not in content for activity in hidden)

    # Someone who may see the contact sees its activities in the same timeline.
    client.force_login(other)
    Company.objects.filter(pk=acme.pk).update(owner=other)
    assert {pk for kind, pk in walk(client, url) if kind == "activity"} >= {activity.pk for activity in hidden}


def test_activities_follow_the_record_they_are_about(client, roles):
    """Every note on my contact is mine to read, whoever wrote it; notes on others' contacts are not."""
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    ada = contact_of(rep)
    bob = contact_of(other)
    mine = Activity.objects.create(kind="note", body="mine", contact=ada, owner=rep)
    colleagues = Activity.objects.create(kind="note", body="by a colleague", contact=ada, owner=other)
    Activity.objects.create(kind="note", body="secret", contact=bob, owner=other)
    client.force_login(rep)
    response = client.get(timeline_url(ada) + "?type=note", **HTMX)
    assert sorted(items(response.content)) == sorted([("activity", mine.pk), ("activity", colleagues.pk)])
    listed = {row["id"] for row in client.get("/api/v1/activities/").json()["results"]}
    assert listed == {mine.pk, colleagues.pk}


def test_records_outside_the_scope_answer_404_and_no_permission_403(client, roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    theirs = contact_of(other)
    their_company = Company.objects.create(name="Theirs", owner=other)
    Activity.objects.create(kind="note", body="secret", contact=theirs, owner=other)
    client.force_login(rep)
    assert client.get(timeline_url(theirs), **HTMX).status_code == 404
    assert client.get(timeline_url(theirs)).status_code == 404
    assert client.get(timeline_url(their_company), **HTMX).status_code == 404
    assert client.get(reverse("customers:contact_timeline", args=[999_999]), **HTMX).status_code == 404
    stranger = make_user(module="sales")
    client.force_login(stranger)
    assert client.get(timeline_url(theirs), **HTMX).status_code == 403


def test_a_bad_cursor_shows_the_first_page():
    assert Cursor.decode("not-a-cursor") is None
    assert Cursor.decode("") is None
    cursor = Cursor(when=timezone.now(), source="activity", pk=5)
    assert Cursor.decode(cursor.encode()) == cursor


def test_the_whole_timeline_has_its_own_page(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    Activity.objects.create(kind="note", body="Hello", contact=ada, owner=rep)
    client.force_login(rep)
    response = client.get(timeline_url(ada))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" in content and 'data-testid="timeline-panel"' in content and "Hello" in content


# --- the panels ----------------------------------------------------------------------------------------


def render_panel(key: str, user, obj) -> str:
    panel = platform.panels[key]
    context = panel.context(user=user, obj=obj)
    assert context is not None
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(panel.template, {"object": obj, "panel": panel, **context}, request=request)


def test_panels_are_registered_for_both_record_types():
    assert platform.panels["timeline"] in platform.panels_for("customers.contact", column="main")
    assert platform.panels["timeline"] in platform.panels_for("customers.company", column="main")
    assert platform.panels["open_tasks"] in platform.panels_for("customers.contact", column="side")


def test_timeline_panel_renders_items_and_forms(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    Activity.objects.create(kind="call", contact=ada, owner=rep, duration=420, outcome="voicemail", direction="inbound")
    content = render_panel("timeline", rep, ada)
    assert 'data-testid="timeline-panel"' in content
    assert "Left voicemail" in content and "7 min" in content
    # The first tab's form comes with the page; the others load when their tab is first shown.
    assert 'data-testid="log-form-note"' in content
    for kind in ("call", "meeting", "email", "task"):
        assert f'data-testid="log-form-{kind}"' not in content
        assert f'data-testid="log-form-placeholder-{kind}"' in content
    reader = make_user(module="customers", actions=("view",))
    assert "log-form-" not in render_panel("timeline", reader, ada)  # no forms without the create permission
    assert platform.panels["timeline"].context(user=make_user(module="sales"), obj=ada) is None


def test_a_timeline_tab_loads_its_blank_form_for_a_visible_record_only(roles, client):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    client.force_login(rep)
    key = panels.panel_key(ada)
    htmx = {"HTTP_HX_REQUEST": "true"}
    call = client.get(reverse("customers:activity_create"), {"panel": key, "kind": "call"}, **htmx)
    assert call.status_code == 200
    body = call.content.decode()
    assert 'data-testid="log-form-call"' in body and f'name="contact" value="{ada.pk}"' in body
    assert "<html" not in body
    task = client.get(reverse("customers:task_create"), {"panel": key}, **htmx).content.decode()
    assert 'data-testid="log-form-task"' in task and "<html" not in task
    assert client.get(reverse("customers:activity_create"), {"panel": key, "kind": "fax"}, **htmx).status_code == 404

    stranger = make_user(module="customers", actions=WRITE, scope="own")
    client.force_login(stranger)
    other = client.get(reverse("customers:activity_create"), {"panel": key, "kind": "call"}, **htmx).content.decode()
    assert f'value="{ada.pk}"' not in other  # an unknown panel falls back to the plain form page
    reader = make_user(module="customers", actions=("view",))
    client.force_login(reader)
    assert client.get(reverse("customers:activity_create"), {"panel": key, "kind": "call"}, **htmx).status_code == 403


def test_open_tasks_panel_lists_the_records_open_tasks(roles):
    rep = make_user(module="customers", actions=WRITE)
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    Task.objects.create(title="Send the quote", assignee=rep, owner=rep, contact=ada)
    Task.objects.create(title="Book the demo", assignee=rep, owner=rep, company=acme)
    Task.objects.create(
        title="Finished", assignee=rep, owner=rep, contact=ada, status="done", completed_at=timezone.now()
    )
    content = render_panel("open_tasks", rep, acme)
    assert "Send the quote" in content and "Book the demo" in content and "Finished" not in content
    content = render_panel("open_tasks", rep, ada)
    assert "Send the quote" in content and "Book the demo" not in content


def test_the_360_pages_show_the_panels(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    Activity.objects.create(kind="note", body="From the panel", contact=ada, owner=rep)
    client.force_login(rep)
    for obj in (ada, acme):
        content = client.get(obj.get_absolute_url()).content.decode()
        assert 'data-testid="timeline-panel"' in content and 'data-testid="open-tasks-panel"' in content
        assert "From the panel" in content


def test_logging_from_the_panel_refreshes_the_timeline(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    client.force_login(rep)
    key = panels.panel_key(ada)
    response = client.post(
        reverse("customers:activity_create"),
        {"kind": "call", "contact": ada.pk, "panel": key, "outcome": "connected", "duration_minutes": "3"},
        **HTMX,
    )
    assert response.status_code == 200
    content = response.content.decode()
    call = Activity.objects.get(contact=ada)
    assert call.duration == 180 and call.owner == rep
    assert f'id="log-{key}-call"' in content  # a fresh form
    assert f'id="timeline-body-{key}" hx-swap-oob="innerHTML"' in content
    assert f'id="activity-{call.pk}"' in content


def test_panel_form_errors_are_shown_next_to_the_fields(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    client.force_login(rep)
    key = panels.panel_key(ada)
    response = client.post(
        reverse("customers:activity_create"),
        {"kind": "meeting", "contact": ada.pk, "panel": key, "subject": "Demo", "starts_at": ""},
        **HTMX,
    )
    assert response.status_code == 200  # htmx swaps it in place
    content = response.content.decode()
    assert "invalid-feedback" in content and 'name="starts_at"' in content and "is-invalid" in content
    assert "hx-swap-oob" not in content
    assert not Activity.objects.exists()


def test_adding_a_task_from_the_panel_refreshes_the_open_tasks(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    client.force_login(rep)
    key = panels.panel_key(ada)
    response = client.post(
        reverse("customers:task_create"),
        {"title": "Send brochure", "priority": "normal", "contact": ada.pk, "panel": key, "due_at": "2031-05-01T10:00"},
        **HTMX,
    )
    assert response.status_code == 200
    task = Task.objects.get()
    assert task.contact == ada and task.assignee == rep
    content = response.content.decode()
    assert f'id="open-tasks-{key}" hx-swap-oob="innerHTML"' in content and "Send brochure" in content


def test_a_panel_post_for_a_hidden_record_is_refused(client, roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    theirs = contact_of(other)
    client.force_login(rep)
    response = client.post(
        reverse("customers:activity_create"),
        {"kind": "note", "body": "x", "contact": theirs.pk, "panel": panels.panel_key(theirs)},
        **HTMX,
    )
    assert response.status_code == 400
    assert not Activity.objects.exists()


# --- query counts --------------------------------------------------------------------------------------

TIMELINE_FRAGMENT_QUERIES = 10
TIMELINE_PANEL_QUERIES = 9


@pytest.mark.parametrize("rows", [3, 40])
def test_timeline_fragment_query_count(client, roles, rows, django_assert_max_num_queries):
    rep = make_user(module="customers", actions=WRITE, scope="team")
    colleague = make_user(module="customers", actions=WRITE)
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    for index in range(rows):
        kind = ("note", "call", "meeting", "email")[index % 4]
        activity = Activity.objects.create(
            kind=kind, body="**x**", subject="s", contact=ada, owner=rep, starts_at=timezone.now()
        )
        if kind == "meeting":
            activity.attendees.add(colleague)
        Contact.objects.filter(pk=ada.pk).update(title=f"T{index}", company=acme if index % 2 else None)
    client.force_login(rep)
    url = timeline_url(ada)
    client.get(url, **HTMX)
    with django_assert_max_num_queries(TIMELINE_FRAGMENT_QUERIES):
        response = client.get(url, **HTMX)
    assert response.status_code == 200 and len(items(response.content)) == min(20, rows * 2 + 1)


@pytest.mark.parametrize("rows", [3, 40])
def test_timeline_panel_query_count(roles, rows, django_assert_max_num_queries):
    rep = make_user(module="customers", actions=WRITE, scope="team")
    acme = Company.objects.create(name="Acme", owner=rep)
    ada = contact_of(rep, company=acme)
    for index in range(rows):
        Activity.objects.create(kind="meeting", subject="s", contact=ada, owner=rep, starts_at=timezone.now())
        Contact.objects.filter(pk=ada.pk).update(title=f"T{index}")
    rep = type(rep).objects.get(pk=rep.pk)
    render_panel("timeline", rep, ada)
    rep = type(rep).objects.get(pk=rep.pk)
    with django_assert_max_num_queries(TIMELINE_PANEL_QUERIES):
        render_panel("timeline", rep, ada)


def test_changes_of_phone_numbers_show_them_formatted(client, roles):
    from crm.core import journal_display
    from crm.core.testing import journal_entries
    from crm.customers import services

    rep = make_user(module="customers", scope="all")
    contact = services.contact_create(
        actor=rep, data={"full_name": "Ada Lovelace", "phones": [{"number": "+1 617 555 0100", "is_primary": True}]}
    )
    acme = services.company_create(actor=rep, data={"name": "Acme", "phone": "+49 30 901820"})
    created = journal_display.describe([journal_entries(contact).get(action="create")])[0]
    assert {row.label: row.new for row in created.rows}["phone"] == "+1 617-555-0100"
    company = journal_display.describe([journal_entries(acme).get(action="create")])[0]
    assert {row.label: row.new for row in company.rows}["phone"] == "+49 30 901820"
    client.force_login(rep)
    page = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "+1 617-555-0100" in page and ">+16175550100<" not in page
