"""Tasks: the services, "My tasks" grouped by day in the user's time zone, one-click completion, the
calendar page and the calendar feed's management."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import formats, timezone

from crm.core.models import Notification
from crm.core.testing import journal_entries, make_user
from crm.customers.activities import selectors, services
from crm.customers.models import Activity, CalendarFeed, Contact, Task

pytestmark = pytest.mark.django_db

WRITE = ("view", "create", "edit", "delete")
HTMX = {"HTTP_HX_REQUEST": "true"}


def task_for(user, **extra) -> Task:
    extra.setdefault("title", "Call back")
    return Task.objects.create(assignee=user, owner=user, **extra)


# --- services ----------------------------------------------------------------------------------------


def test_create_assigns_to_the_creator_unless_told_otherwise(roles):
    rep = make_user(module="customers", actions=WRITE)
    colleague = make_user(module="customers")
    mine = services.task_create(actor=rep, data={"title": "  Send quote  "})
    assert mine.assignee == rep and mine.owner == rep and mine.title == "Send quote" and mine.priority == "normal"
    assert not Notification.objects.exists()
    theirs = services.task_create(actor=rep, data={"title": "Visit", "assignee": colleague, "priority": "high"})
    assert theirs.assignee == colleague and theirs.owner == rep
    notice = Notification.objects.get(recipient=colleague)
    assert "Visit" in notice.title and notice.url == theirs.get_absolute_url()
    assert journal_entries(theirs).get().action == "create"


def test_task_services_need_permissions(roles):
    reader = make_user(module="customers", actions=("view",))
    task = task_for(reader)
    with pytest.raises(PermissionDenied):
        services.task_create(actor=reader, data={"title": "x"})
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=reader, task=task)
    with pytest.raises(PermissionDenied):
        services.task_delete(actor=reader, task=task)


def test_complete_and_reopen(roles):
    rep = make_user(module="customers", actions=WRITE)
    task = task_for(rep)
    done = services.task_complete(actor=rep, task=task)
    assert done.status == "done" and done.completed_at is not None and done.version == 2
    again = services.task_complete(actor=rep, task=done)
    assert again.version == 2  # completing a done task changes nothing
    reopened = services.task_reopen(actor=rep, task=done)
    assert reopened.status == "open" and reopened.completed_at is None
    assert [e.changes.get("status") for e in journal_entries(task).filter(action="update")] == [
        ["open", "done"],
        ["done", "open"],
    ]


def test_a_new_reminder_time_reminds_again(roles):
    rep = make_user(module="customers", actions=WRITE)
    task = task_for(rep, reminder_at=timezone.now() - timedelta(minutes=1))
    Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    task.refresh_from_db()
    later = timezone.now() + timedelta(hours=2)
    updated = services.task_update(actor=rep, task=task, data={"reminder_at": later}, version=task.version)
    assert updated.reminded_at is None and updated.reminder_at == later
    untouched = services.task_update(actor=rep, task=updated, data={"title": "Renamed"}, version=updated.version)
    assert untouched.reminder_at == later


def test_reassigning_checks_and_tells_the_new_assignee(roles):
    rep = make_user(module="customers", actions=WRITE)
    colleague = make_user(module="customers")
    task = task_for(rep)
    with pytest.raises(ValidationError) as refused:
        services.task_update(actor=rep, task=task, data={"assignee": make_user(module="sales")}, version=1)
    assert "assignee" in refused.value.message_dict
    task.refresh_from_db()
    services.task_update(actor=rep, task=task, data={"assignee": colleague}, version=task.version)
    assert Notification.objects.filter(recipient=colleague).count() == 1


# --- my tasks ------------------------------------------------------------------------------------------


def test_grouping_follows_the_users_time_zone(roles):
    """The same instants fall on different days for a user in Shanghai and one in New York."""
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 04:00 on 11 March in Shanghai, 16:00 on 10 March in New York
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    new_york = zoneinfo.ZoneInfo("America/New_York")
    rep = make_user(module="customers", actions=WRITE)
    a = task_for(rep, title="a", due_at=datetime(2026, 3, 10, 15, 0, tzinfo=UTC))  # SH 23:00 10th | NY 11:00 10th
    b = task_for(rep, title="b", due_at=datetime(2026, 3, 10, 17, 0, tzinfo=UTC))  # SH 01:00 11th | NY 13:00 10th
    c = task_for(rep, title="c", due_at=datetime(2026, 3, 11, 3, 0, tzinfo=UTC))  # SH 11:00 11th | NY 23:00 10th
    d = task_for(rep, title="d", due_at=datetime(2026, 3, 11, 17, 0, tzinfo=UTC))  # SH 01:00 12th | NY 13:00 11th
    e = task_for(rep, title="e")
    task_for(rep, title="done", due_at=now, status="done", completed_at=now)
    task_for(make_user(module="customers"), title="someone else's", due_at=now)

    in_shanghai = selectors.my_task_groups(user=rep, now=now, zone=shanghai)
    assert in_shanghai.today_date.day == 11
    assert (in_shanghai.overdue, in_shanghai.today, in_shanghai.upcoming, in_shanghai.someday) == (
        [a],
        [b, c],
        [d],
        [e],
    )

    in_new_york = selectors.my_task_groups(user=rep, now=now, zone=new_york)
    assert in_new_york.today_date.day == 10
    assert (in_new_york.overdue, in_new_york.today, in_new_york.upcoming, in_new_york.someday) == (
        [],
        [a, b, c],
        [d],
        [e],
    )


def test_grouping_across_a_daylight_saving_change():
    """New York moves its clocks on 8 March 2026: that day is 23 hours long."""
    new_york = zoneinfo.ZoneInfo("America/New_York")
    start, end = selectors.day_bounds(datetime(2026, 3, 8).date(), new_york)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    assert start.astimezone(UTC).hour == 5 and end.astimezone(UTC).hour == 4


def test_my_tasks_page_shows_groups_in_the_users_time_zone(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    rep.time_zone = "Asia/Shanghai"
    rep.save()
    now = timezone.now()
    task_for(rep, title="Yesterday's call", due_at=now - timedelta(days=1, hours=1))
    task_for(rep, title="Next week's visit", due_at=now + timedelta(days=8))
    task_for(rep, title="Whenever")
    client.force_login(rep)
    response = client.get(reverse("customers:task_list"))
    assert response.status_code == 200
    content = response.content.decode()
    overdue = content.index('data-testid="task-group-overdue"')
    upcoming = content.index('data-testid="task-group-upcoming"')
    someday = content.index('data-testid="task-group-someday"')
    assert (
        overdue < content.index("Yesterday&#x27;s call") < upcoming < content.index("Next week&#x27;s visit") < someday
    )
    due = (now + timedelta(days=8)).astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert formats.date_format(due, "SHORT_DATETIME_FORMAT") in content  # shown in Shanghai time


def test_complete_with_one_click(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    task = task_for(rep, due_at=timezone.now())
    client.force_login(rep)
    response = client.post(reverse("customers:task_complete", args=[task.pk]), **HTMX)
    assert response.status_code == 200
    assert 'data-status="done"' in response.content.decode()
    assert reverse("customers:task_reopen", args=[task.pk]) in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done"
    response = client.post(reverse("customers:task_reopen", args=[task.pk]), {"next": "/tasks/"})
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    task.refresh_from_db()
    assert task.status == "open"


def test_completing_someone_elses_task_outside_the_scope_answers_404(client, roles):
    rep = make_user(module="customers", actions=WRITE, scope="own")
    theirs = task_for(make_user(module="customers", actions=WRITE, scope="own"))
    client.force_login(rep)
    assert client.post(reverse("customers:task_complete", args=[theirs.pk]), **HTMX).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_create_and_edit_task_pages(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    rep.time_zone = "Europe/Berlin"
    rep.save()
    ada = Contact.objects.create(first_name="Ada", owner=rep)
    client.force_login(rep)
    form = client.get(reverse("customers:task_create") + f"?contact={ada.pk}")
    assert form.status_code == 200 and f'value="{ada.pk}"' in form.content.decode()
    response = client.post(
        reverse("customers:task_create"),
        {"title": "Quote", "priority": "high", "due_at": "2030-06-01T09:00", "contact": ada.pk},
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.contact == ada and task.assignee == rep
    assert task.due_at == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)  # 09:00 in Berlin's summer time
    response = client.post(reverse("customers:task_create"), {"title": "", "priority": "high"})
    assert response.status_code == 400 and "invalid-feedback" in response.content.decode()
    response = client.post(
        reverse("customers:task_edit", args=[task.pk]),
        {"title": "Quote v2", "priority": "low", "version": task.version},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Quote v2" and task.due_at is None


MY_TASKS_QUERIES = 8


@pytest.mark.parametrize("rows", [2, 30])
def test_my_tasks_query_count(client, roles, rows, django_assert_max_num_queries):
    rep = make_user(module="customers", actions=WRITE, scope="team")
    ada = Contact.objects.create(first_name="Ada", owner=rep)
    now = timezone.now()
    for index in range(rows):
        task_for(rep, title=f"t{index}", due_at=now + timedelta(days=index - rows // 2), contact=ada)
        task_for(rep, title=f"s{index}")
    client.force_login(rep)
    url = reverse("customers:task_list")
    client.get(url)
    with django_assert_max_num_queries(MY_TASKS_QUERIES):
        response = client.get(url)
    assert response.status_code == 200


def test_my_tasks_needs_the_module(client, roles):
    client.force_login(make_user(module="sales"))
    assert client.get(reverse("customers:task_list")).status_code == 403
    assert client.get(reverse("customers:calendar")).status_code == 403


def test_dashboard_shows_my_tasks(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    task_for(rep, title="Overdue thing", due_at=timezone.now() - timedelta(days=2))
    client.force_login(rep)
    content = client.get(reverse("core:dashboard")).content.decode()
    assert 'data-testid="widget-my-tasks"' in content and "Overdue thing" in content


# --- calendar ------------------------------------------------------------------------------------------


def test_calendar_shows_my_tasks_and_meetings_of_the_month(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    rep.time_zone = "Asia/Shanghai"
    rep.save()
    organiser = make_user(module="customers", actions=WRITE)
    ada = Contact.objects.create(first_name="Ada", owner=organiser)
    task_for(rep, title="Quote due", due_at=datetime(2026, 5, 31, 17, 0, tzinfo=UTC))  # 1 June in Shanghai
    mine = Activity.objects.create(
        kind="meeting", subject="My demo", contact=ada, owner=rep, starts_at=datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
    )
    invited = Activity.objects.create(
        kind="meeting",
        subject="Invited",
        contact=ada,
        owner=organiser,
        starts_at=datetime(2026, 6, 12, 2, 0, tzinfo=UTC),
    )
    invited.attendees.add(rep)
    Activity.objects.create(
        kind="meeting",
        subject="Not mine",
        contact=ada,
        owner=organiser,
        starts_at=datetime(2026, 6, 12, 2, 0, tzinfo=UTC),
    )
    task_for(organiser, title="Their task", due_at=datetime(2026, 6, 3, 2, 0, tzinfo=UTC))
    client.force_login(rep)
    response = client.get(reverse("customers:calendar") + "?month=2026-06")
    assert response.status_code == 200
    content = response.content.decode()
    assert "My demo" in content and "Invited" in content and "Quote due" in content
    assert "Not mine" not in content and "Their task" not in content
    june_first = content.index('data-date="2026-06-01"')
    assert june_first < content.index("Quote due") < content.index('data-date="2026-06-02"')
    assert "?month=2026-05" in content and "?month=2026-07" in content
    assert mine.get_absolute_url() in content
    assert client.get(reverse("customers:calendar") + "?month=garbage").status_code == 200


def test_calendar_feed_is_created_shown_once_and_revoked(client, roles):
    rep = make_user(module="customers", actions=WRITE)
    client.force_login(rep)
    page = client.get(reverse("customers:calendar")).content.decode()
    assert reverse("customers:calendar_feed_create") in page and 'data-testid="feed-url"' not in page
    response = client.post(reverse("customers:calendar_feed_create"))
    assert response.status_code == 200
    content = response.content.decode()
    url = content.split('data-testid="feed-url">', 1)[1].split("<", 1)[0]
    assert url.startswith("http://testserver/calendar/feed/") and url.endswith(".ics")
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=rep)
    assert secret not in feed.token_hash and len(secret) >= 40
    again = client.get(reverse("customers:calendar")).content.decode()
    assert secret not in again  # shown once
    # a new address replaces the old one
    client.post(reverse("customers:calendar_feed_create"))
    assert CalendarFeed.objects.filter(user=rep, revoked_at__isnull=True).count() == 1
    assert CalendarFeed.objects.filter(user=rep).count() == 2
    response = client.post(reverse("customers:calendar_feed_revoke"))
    assert response.status_code == 302
    assert not CalendarFeed.objects.filter(user=rep, revoked_at__isnull=True).exists()


def test_feed_services_are_per_user(roles):
    rep = make_user(module="customers")
    other = make_user(module="customers")
    _mine, _secret = services.calendar_feed_create(user=rep)
    theirs, _their_secret = services.calendar_feed_create(user=other)
    assert services.calendar_feed_revoke(user=rep) == 1
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    with pytest.raises(PermissionDenied):
        services.calendar_feed_create(user=make_user(module="sales"))
