"""The personal calendar feed, read as a calendar program would: parsed with the icalendar library."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.testing import make_user
from crm.customers.activities import services
from crm.customers.models import Activity, Contact, Task

pytestmark = pytest.mark.django_db


def feed_url(secret: str) -> str:
    return reverse("customers:calendar_feed", args=[secret])


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def components(calendar: icalendar.Calendar, name: str) -> dict[str, icalendar.cal.Component]:
    return {str(c["UID"]): c for c in calendar.walk(name)}


@pytest.fixture
def world(roles):
    """A rep with a feed, their meetings and tasks, and a colleague's that must stay out."""
    rep = make_user(module="customers", actions=("view", "create", "edit"), username="rep")
    rep.time_zone = "Asia/Shanghai"
    rep.first_name, rep.last_name = "Li", "Wei"
    rep.save()
    colleague = make_user(module="customers", username="colleague")
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=rep)
    soon = timezone.now().replace(microsecond=0) + timedelta(days=2)
    demo = Activity.objects.create(
        kind="meeting",
        subject="Product demo",
        body="Bring the **prototype**",
        location="Their office",
        contact=ada,
        owner=rep,
        starts_at=soon,
        ends_at=soon + timedelta(minutes=45),
    )
    invited = Activity.objects.create(
        kind="meeting", subject="Kick-off", contact=ada, owner=colleague, starts_at=soon + timedelta(days=1)
    )
    invited.attendees.add(rep)
    Activity.objects.create(
        kind="meeting", subject="Their private meeting", contact=ada, owner=colleague, starts_at=soon
    )
    Activity.objects.create(kind="call", contact=ada, owner=rep)  # not a meeting
    quote = Task.objects.create(
        title="Send the quote",
        assignee=rep,
        owner=rep,
        contact=ada,
        priority="high",
        due_at=datetime(2030, 3, 1, 17, 0, tzinfo=UTC),  # 2 March in Shanghai
    )
    Task.objects.create(title="Undated", assignee=rep, owner=rep)
    Task.objects.create(
        title="Done already", assignee=rep, owner=rep, due_at=soon, status="done", completed_at=timezone.now()
    )
    Task.objects.create(title="Their task", assignee=colleague, owner=colleague, due_at=soon)
    _feed, secret = services.calendar_feed_create(user=rep)
    return {"rep": rep, "secret": secret, "demo": demo, "invited": invited, "quote": quote, "soon": soon}


def test_the_feed_parses_with_meetings_and_open_tasks(client, world):
    calendar = parse(client.get(feed_url(world["secret"])))  # no sign-in: the secret is the credential
    assert str(calendar["VERSION"]) == "2.0" and "Li Wei" in str(calendar["X-WR-CALNAME"])
    events = components(calendar, "VEVENT")
    demo, invited, quote = world["demo"], world["invited"], world["quote"]
    assert set(events) == {
        f"meeting-{demo.pk}@testserver",
        f"meeting-{invited.pk}@testserver",
        f"task-{quote.pk}@testserver",
    }
    meeting = events[f"meeting-{demo.pk}@testserver"]
    assert str(meeting["SUMMARY"]) == "Product demo" and str(meeting["LOCATION"]) == "Their office"
    start, end = meeting.decoded("DTSTART"), meeting.decoded("DTEND")
    assert start == world["soon"] and end - start == timedelta(minutes=45)
    assert start.utcoffset() == timedelta(0) and meeting["DTSTART"].to_ical().endswith(b"Z")  # UTC
    assert "Bring the prototype" in str(meeting["DESCRIPTION"]) and "Ada Lovelace" in str(meeting["DESCRIPTION"])
    assert str(meeting["URL"]).endswith(demo.get_absolute_url())
    kick_off = events[f"meeting-{invited.pk}@testserver"]
    assert kick_off.decoded("DTEND") - kick_off.decoded("DTSTART") == timedelta(hours=1)  # no end given

    task = events[f"task-{quote.pk}@testserver"]
    assert str(task["SUMMARY"]) == "Task: Send the quote"
    assert task.decoded("DTSTART") == date(2030, 3, 2)  # the due day in the user's time zone
    assert task.decoded("DTEND") == date(2030, 3, 3)
    assert int(task["PRIORITY"]) == 1


def test_uids_are_stable_and_sequence_follows_edits(client, world):
    first = components(parse(client.get(feed_url(world["secret"]))), "VEVENT")
    rep, demo = world["rep"], world["demo"]
    services.activity_update(actor=rep, activity=demo, data={"subject": "Demo v2"}, version=demo.version)
    second = components(parse(client.get(feed_url(world["secret"]))), "VEVENT")
    assert set(first) == set(second)
    uid = f"meeting-{demo.pk}@testserver"
    assert str(second[uid]["SUMMARY"]) == "Demo v2" and int(second[uid]["SEQUENCE"]) == int(first[uid]["SEQUENCE"]) + 1


def test_unknown_and_revoked_secrets_answer_404(client, world):
    assert client.get(feed_url("not-a-real-secret")).status_code == 404
    services.calendar_feed_revoke(user=world["rep"])
    assert client.get(feed_url(world["secret"])).status_code == 404


def test_a_new_address_stops_the_old_one(client, world):
    _feed, new_secret = services.calendar_feed_create(user=world["rep"])
    assert client.get(feed_url(world["secret"])).status_code == 404
    assert client.get(feed_url(new_secret)).status_code == 200


def test_the_feed_of_a_deactivated_user_or_one_without_the_module_answers_404(client, world):
    rep = world["rep"]
    rep.is_active = False
    rep.save()
    assert client.get(feed_url(world["secret"])).status_code == 404
    colleague = type(rep).objects.get(username="colleague")
    _feed, secret = services.calendar_feed_create(user=colleague)
    assert client.get(feed_url(secret)).status_code == 200
    colleague.role.permissions = {"sales": ["view"]}  # the role no longer grants customers
    colleague.role.save()
    assert client.get(feed_url(secret)).status_code == 404


def test_each_user_sees_only_their_own_data(client, world):
    colleague = type(world["rep"]).objects.get(username="colleague")
    _feed, secret = services.calendar_feed_create(user=colleague)
    events = components(parse(client.get(feed_url(secret))), "VEVENT")
    summaries = {str(e["SUMMARY"]) for e in events.values()}
    assert summaries == {"Kick-off", "Their private meeting", "Task: Their task"}
    assert "Send the quote" not in client.get(feed_url(secret)).content.decode()


def test_the_feed_records_its_use_and_is_throttled(client, world, settings):
    settings.CALENDAR_FEED_RATE = "3/m"
    for _ in range(3):
        assert client.get(feed_url(world["secret"])).status_code == 200
    assert client.get(feed_url(world["secret"])).status_code == 429
    feed = world["rep"].calendar_feeds.get()
    assert feed.last_used_at is not None


def test_only_reading_is_allowed(client, world):
    assert client.post(feed_url(world["secret"])).status_code == 405
    assert client.head(feed_url(world["secret"])).status_code == 200


def test_the_throttle_counts_each_feed_on_its_own(client, world, settings):
    settings.CALENDAR_FEED_RATE = "2/m"
    colleague = type(world["rep"]).objects.get(username="colleague")
    _feed, other_secret = services.calendar_feed_create(user=colleague)
    for _ in range(2):
        assert client.get(feed_url(world["secret"])).status_code == 200
    assert client.get(feed_url(world["secret"])).status_code == 429
    assert client.get(feed_url(other_secret)).status_code == 200  # same address, another feed
