"""Logging activities through the services: permissions, data scope, Markdown sanitising, @mentions and
"last contacted"."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from crm.accounts.tests.factories import TeamFactory, UserFactory
from crm.core.exceptions import ConflictError
from crm.core.models import JournalEntry, Notification
from crm.core.testing import journal_entries, make_user
from crm.customers.activities import services
from crm.customers.activities.markdown import plain_text, render
from crm.customers.activities.mentions import mentioned_usernames
from crm.customers.models import Activity, Company, Contact

pytestmark = pytest.mark.django_db

WRITE = ("view", "create", "edit", "delete")


def contact_of(owner, **extra) -> Contact:
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=owner, **extra)


# --- logging -----------------------------------------------------------------------------------------


def test_log_each_kind_with_its_own_fields(roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    ada = contact_of(rep)
    colleague = UserFactory(role=roles["sales_rep"])
    start = timezone.now() + timedelta(days=1)

    note = services.activity_log(actor=rep, data={"kind": "note", "body": "Likes *tea*", "contact": ada})
    call = services.activity_log(
        actor=rep, data={"kind": "call", "contact": ada, "duration": 300, "outcome": "connected", "direction": ""}
    )
    meeting = services.activity_log(
        actor=rep,
        data={
            "kind": "meeting",
            "subject": "Demo",
            "contact": ada,
            "starts_at": start,
            "ends_at": start + timedelta(hours=1),
            "location": "Their office",
            "attendees": [colleague],
        },
    )
    email = services.activity_log(
        actor=rep,
        data={"kind": "email", "subject": "Quote", "body": "Attached.", "direction": "inbound", "contact": ada},
    )

    assert note.owner == rep and note.kind == "note"
    assert call.direction == "outbound"  # the default of a call
    assert call.duration == 300 and call.outcome == "connected"
    assert meeting.occurred_at == start  # a meeting sorts by its start
    assert list(meeting.attendees.all()) == [colleague]
    assert email.direction == "inbound"
    assert set(Activity.objects.filter(contact=ada).values_list("kind", flat=True)) == {
        "note",
        "call",
        "meeting",
        "email",
    }
    assert {e.action for e in journal_entries(note)} == {"create"}


def test_each_kind_requires_what_makes_it_complete(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    with pytest.raises(ValidationError) as note:
        services.activity_log(actor=rep, data={"kind": "note", "body": "  ", "contact": ada})
    assert "body" in note.value.message_dict
    with pytest.raises(ValidationError) as email:
        services.activity_log(actor=rep, data={"kind": "email", "contact": ada})
    assert "subject" in email.value.message_dict
    with pytest.raises(ValidationError) as meeting:
        services.activity_log(actor=rep, data={"kind": "meeting", "subject": "x", "contact": ada})
    assert set(meeting.value.message_dict) == {"starts_at"}
    now = timezone.now()
    with pytest.raises(ValidationError) as backwards:
        services.activity_log(
            actor=rep,
            data={
                "kind": "meeting",
                "subject": "x",
                "contact": ada,
                "starts_at": now,
                "ends_at": now - timedelta(hours=1),
            },
        )
    assert "ends_at" in backwards.value.message_dict
    with pytest.raises(ValidationError) as nowhere:
        services.activity_log(actor=rep, data={"kind": "note", "body": "floating"})
    assert "contact" in nowhere.value.message_dict
    with pytest.raises(ValidationError) as foreign:
        services.activity_log(actor=rep, data={"kind": "note", "body": "x", "contact": ada, "duration": 60})
    assert "duration" in foreign.value.message_dict
    with pytest.raises(ValidationError) as unknown:
        services.activity_log(actor=rep, data={"kind": "fax", "contact": ada})
    assert "kind" in unknown.value.message_dict
    assert not Activity.objects.exists()


def test_the_database_refuses_an_activity_about_nobody(roles):
    rep = make_user(module="customers")
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(kind="note", body="x", owner=rep)


def test_logging_needs_the_create_permission(roles):
    reader = make_user(module="customers", actions=("view",))
    ada = contact_of(reader)
    with pytest.raises(PermissionDenied):
        services.activity_log(actor=reader, data={"kind": "note", "body": "x", "contact": ada})
    nobody = make_user(module="sales", actions=WRITE)
    with pytest.raises(PermissionDenied):
        services.activity_log(actor=nobody, data={"kind": "note", "body": "x", "contact": ada})


def test_a_record_outside_the_scope_cannot_be_linked(roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    theirs = contact_of(other)
    their_company = Company.objects.create(name="Hidden", owner=other)
    with pytest.raises(ValidationError) as by_contact:
        services.activity_log(actor=rep, data={"kind": "note", "body": "x", "contact": theirs})
    assert by_contact.value.message_dict == {"contact": ["Select a valid choice."]}
    with pytest.raises(ValidationError) as by_company:
        services.activity_log(actor=rep, data={"kind": "note", "body": "x", "company": their_company})
    assert "company" in by_company.value.message_dict
    assert not Activity.objects.exists()


def test_activity_takes_the_team_of_its_record_and_is_scoped_by_owner_and_team(roles):
    rep = make_user(module="customers", actions=WRITE, scope="all")
    manager = make_user(module="customers", actions=WRITE, scope="team")
    outsider = make_user(module="customers", actions=WRITE, scope="team")
    team = TeamFactory(members=[manager])
    TeamFactory(members=[outsider])
    ada = contact_of(None, team=team)
    activity = services.activity_log(actor=rep, data={"kind": "note", "body": "x", "contact": ada})
    assert activity.team == team
    assert Activity.objects.visible_to(manager).filter(pk=activity.pk).exists()
    assert not Activity.objects.visible_to(outsider).filter(pk=activity.pk).exists()


def test_update_keeps_the_kind_checks_the_version_and_is_journaled(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    call = services.activity_log(actor=rep, data={"kind": "call", "contact": ada, "duration": 60})
    updated = services.activity_update(
        actor=rep, activity=call, data={"outcome": "voicemail", "duration": 120}, version=call.version
    )
    assert updated.version == 2 and updated.outcome == "voicemail"
    entry = journal_entries(call).last()
    assert entry.action == "update" and entry.changes["duration"] == [60, 120]
    with pytest.raises(ConflictError):
        services.activity_update(actor=rep, activity=call, data={"outcome": "busy"}, version=1)
    with pytest.raises(ValidationError) as kind:
        services.activity_update(actor=rep, activity=call, data={"kind": "note"}, version=2)
    assert "kind" in kind.value.message_dict


def test_delete_needs_the_delete_permission_and_is_journaled(roles):
    rep = make_user(module="customers", actions=("view", "create", "edit"))
    boss = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    note = services.activity_log(actor=rep, data={"kind": "note", "body": "x", "contact": ada})
    note_id = note.pk
    with pytest.raises(PermissionDenied):
        services.activity_delete(actor=rep, activity=note)
    services.activity_delete(actor=boss, activity=note)
    assert not Activity.objects.exists()
    assert JournalEntry.objects.filter(object_id=str(note_id), action="delete").exists()


# --- last contacted ----------------------------------------------------------------------------------


def test_calls_meetings_and_emails_move_last_contacted_forward_notes_do_not(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    services.activity_log(actor=rep, data={"kind": "note", "body": "internal", "contact": ada})
    ada.refresh_from_db()
    assert ada.last_contacted_at is None

    yesterday = timezone.now() - timedelta(days=1)
    services.activity_log(actor=rep, data={"kind": "call", "contact": ada, "occurred_at": yesterday})
    ada.refresh_from_db()
    assert ada.last_contacted_at == yesterday

    earlier = yesterday - timedelta(days=5)
    services.activity_log(actor=rep, data={"kind": "email", "subject": "Old", "contact": ada, "occurred_at": earlier})
    ada.refresh_from_db()
    assert ada.last_contacted_at == yesterday  # an older email does not move it back

    future = timezone.now() + timedelta(days=3)
    services.activity_log(actor=rep, data={"kind": "meeting", "subject": "Next", "contact": ada, "starts_at": future})
    ada.refresh_from_db()
    assert ada.last_contacted_at == yesterday  # a planned meeting has not happened yet
    # "last contacted" is bookkeeping, not a change of the contact
    assert not journal_entries(ada).filter(action="update").exists()


def test_deleting_the_latest_call_recomputes_last_contacted(roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    older = timezone.now() - timedelta(days=10)
    newer = timezone.now() - timedelta(days=1)
    services.activity_log(actor=rep, data={"kind": "call", "contact": ada, "occurred_at": older})
    latest = services.activity_log(actor=rep, data={"kind": "call", "contact": ada, "occurred_at": newer})
    services.activity_delete(actor=rep, activity=latest)
    ada.refresh_from_db()
    assert ada.last_contacted_at == older


# --- Markdown ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, absent",
    [
        ("<script>alert(1)</script>hello", ["<script", "alert(1)"]),
        ('<a href="https://x.example" onclick="steal()">x</a>', ["onclick", "steal"]),
        ("[click](javascript:alert(1))", ["javascript:"]),
        ('<img src="x" onerror="alert(1)">', ["<img", "onerror"]),
        ("<style>body{display:none}</style>text", ["<style", "display:none"]),
        ('<iframe src="https://evil.example"></iframe>', ["<iframe"]),
        ('<p style="background:url(javascript:x)">x</p>', ["style=", "javascript"]),
    ],
)
def test_markdown_is_sanitised(source, absent):
    html = render(source)
    for fragment in absent:
        assert fragment not in html


def test_markdown_keeps_formatting_and_safe_links():
    html = render("**bold** and _em_\n\n- one\n- two\n\n[site](https://example.com)")
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert plain_text("**bold** <b>x</b> &amp; y") == "bold x & y"


def test_the_api_and_pages_show_the_sanitised_body(roles, client):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    note = services.activity_log(
        actor=rep, data={"kind": "note", "body": "Hi <script>alert('x')</script> **there**", "contact": ada}
    )
    assert note.body.count("<script>") == 1  # the source is kept as typed
    client.force_login(rep)
    page = client.get(note.get_absolute_url()).content.decode()
    assert "<strong>there</strong>" in page and "alert('x')" not in page


# --- @mentions ---------------------------------------------------------------------------------------


def test_mention_syntax():
    text = "Ask @bob, and @li.wei. Not mail@example.com; but @alice@corp.example can. @BOB again"
    assert mentioned_usernames(text) == ["bob", "li.wei", "alice@corp.example"]


def test_mentions_notify_colleagues_who_can_see_the_record_only(roles):
    writer = make_user(module="customers", actions=WRITE, scope="all", username="writer")
    make_user(module="customers", actions=("view",), scope="all", username="carol")
    make_user(module="customers", actions=("view",), scope="own", username="dave")
    make_user(module="sales", actions=("view",), scope="all", username="erin")
    inactive = make_user(module="customers", actions=("view",), scope="all", username="frank")
    inactive.is_active = False
    inactive.save()
    ada = contact_of(writer)
    note = services.activity_log(
        actor=writer,
        data={"kind": "note", "body": "@carol @dave @erin @frank @writer @nobody please call back", "contact": ada},
    )
    told = Notification.objects.filter(url=note.get_absolute_url())
    assert list(told.values_list("recipient__username", flat=True)) == ["carol"]
    notice = told.get()
    assert "writer" in notice.title.lower() or str(writer) in notice.title
    assert "Ada Lovelace" in notice.title
    assert "please call back" in notice.body


def test_editing_a_note_tells_only_the_newly_mentioned(roles):
    writer = make_user(module="customers", actions=WRITE, scope="all")
    make_user(module="customers", actions=("view",), scope="all", username="carol")
    make_user(module="customers", actions=("view",), scope="all", username="dave")
    ada = contact_of(writer)
    note = services.activity_log(actor=writer, data={"kind": "note", "body": "@carol look", "contact": ada})
    services.activity_update(actor=writer, activity=note, data={"body": "@carol and @dave look"}, version=1)
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["carol", "dave"]


# --- pages -------------------------------------------------------------------------------------------


def test_log_page_for_a_record_and_back_to_it(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    ada = contact_of(rep)
    client.force_login(rep)
    url = reverse("customers:activity_create")
    page = client.get(url + f"?kind=email&contact={ada.pk}").content.decode()
    assert "Ada Lovelace" in page and 'name="subject"' in page and f"?kind=call&amp;contact={ada.pk}" in page
    response = client.post(url, {"kind": "email", "subject": "Quote", "contact": ada.pk, "panel": f"contact-{ada.pk}"})
    assert response.status_code == 302 and response["Location"] == ada.get_absolute_url()
    response = client.post(url, {"kind": "email", "subject": "", "contact": ada.pk})
    assert response.status_code == 400 and "invalid-feedback" in response.content.decode()
    orphan = client.post(url, {"kind": "note", "body": "x"})
    assert orphan.status_code == 400 and "Choose the contact or the company" in orphan.content.decode()


def test_activity_list_page_is_scoped_and_filtered(client, roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    other = make_user(module="customers", actions=WRITE, scope="own")
    ada = contact_of(rep)
    services.activity_log(actor=rep, data={"kind": "call", "subject": "My call", "contact": ada})
    services.activity_log(actor=rep, data={"kind": "note", "body": "My note", "contact": ada})
    services.activity_log(actor=other, data={"kind": "call", "subject": "Their call", "contact": contact_of(other)})
    client.force_login(rep)
    content = client.get(reverse("customers:activity_list")).content.decode()
    assert "My call" in content and "Their call" not in content
    content = client.get(reverse("customers:activity_list") + "?kind=note").content.decode()
    assert "My call" not in content and "Note" in content


def test_demo_data_is_built_once(roles):
    from crm.customers.activities.demo import build

    rep = make_user(module="customers", actions=WRITE)
    for index in range(5):
        contact_of(rep, full_name=f"Demo {index}")
    build()
    count = Activity.objects.count()
    assert count >= 5  # one to four per contact
    assert set(Activity.objects.values_list("contact", flat=True)) <= set(Contact.objects.values_list("pk", flat=True))
    for activity in Activity.objects.exclude(kind="note").filter(occurred_at__lte=timezone.now()):
        assert activity.contact.last_contacted_at >= activity.occurred_at
    build()
    assert Activity.objects.count() == count


def test_edit_a_meeting_on_its_page(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    rep.time_zone = "Asia/Shanghai"
    rep.save()
    colleague = make_user(module="customers")
    ada = contact_of(rep)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    meeting = services.activity_log(
        actor=rep,
        data={"kind": "meeting", "subject": "Demo", "contact": ada, "starts_at": start, "attendees": [colleague]},
    )
    client.force_login(rep)
    url = reverse("customers:activity_edit", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert f'<input type="hidden" name="attendees" value="{colleague.pk}">' in page
    assert 'name="duration_minutes"' not in page and 'name="contact"' not in page
    local = timezone.localtime(start, zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in page  # shown in the user's time zone
    response = client.post(
        url,
        {
            "kind": "meeting",
            "subject": "Demo (moved)",
            "starts_at": f"{local + timedelta(hours=2):%Y-%m-%dT%H:%M}",
            "attendees": [colleague.pk, rep.pk],
            "version": meeting.version,
        },
    )
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    meeting.refresh_from_db()
    assert meeting.subject == "Demo (moved)" and meeting.starts_at == start + timedelta(hours=2)
    assert meeting.occurred_at == meeting.starts_at
    assert set(meeting.attendees.all()) == {colleague, rep}
