"""Task reminders: the periodic task notifies in the bell and by email, once, in the person's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.core.models import Notification
from crm.core.testing import make_user
from crm.customers.activities import services
from crm.customers.activities.tasks import task_reminders_send_task
from crm.customers.models import Contact, Task

pytestmark = pytest.mark.django_db


def task_for(user, **extra) -> Task:
    extra.setdefault("title", "Send the quote")
    return Task.objects.create(assignee=user, owner=user, **extra)


def test_a_due_reminder_is_sent_once_even_when_the_task_runs_twice(roles):
    rep = make_user(module="customers", username="rep")
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=rep)
    task = task_for(rep, contact=ada, reminder_at=timezone.now() - timedelta(minutes=1), due_at=timezone.now())

    assert task_reminders_send_task.delay().get() == 1
    assert task_reminders_send_task.delay().get() == 0

    notice = Notification.objects.get(recipient=rep)
    assert "Send the quote" in notice.title and notice.url == task.get_absolute_url()
    assert notice.body == "Ada Lovelace"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [rep.email] and "Send the quote" in message.subject
    assert "Ada Lovelace" in message.body and f"http://127.0.0.1:8000{task.get_absolute_url()}" in message.body
    task.refresh_from_db()
    assert task.reminded_at is not None


def test_only_due_reminders_of_open_tasks_are_sent(roles):
    rep = make_user(module="customers")
    now = timezone.now()
    task_for(rep, title="later", reminder_at=now + timedelta(minutes=5))
    task_for(rep, title="no reminder")
    task_for(rep, title="done", reminder_at=now - timedelta(hours=1), status="done", completed_at=now)
    task_for(rep, title="already", reminder_at=now - timedelta(hours=1), reminded_at=now - timedelta(minutes=59))
    assert services.task_reminders_send(now=now) == 0
    assert not mail.outbox and not Notification.objects.exists()
    assert services.task_reminders_send(now=now + timedelta(minutes=6)) == 1
    assert [m.subject for m in mail.outbox] == ["Reminder: later"]


def test_a_reminder_already_claimed_by_another_run_is_not_sent_again(roles):
    """Two overlapping runs see the same due task; the conditional UPDATE lets only one send it."""
    rep = make_user(module="customers")
    task = task_for(rep, reminder_at=timezone.now() - timedelta(minutes=1))
    original_filter = Task.objects.filter

    def racing_filter(*args, **kwargs):
        # the other run claims the task between this run's listing and its claim
        if "pk" in kwargs and "reminded_at__isnull" in kwargs:
            Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
        return original_filter(*args, **kwargs)

    Task.objects.filter = racing_filter  # type: ignore[method-assign]
    try:
        assert services.task_reminders_send() == 0
    finally:
        Task.objects.filter = original_filter  # type: ignore[method-assign]
    assert not mail.outbox and not Notification.objects.exists()


def test_the_email_is_in_the_assignees_language_and_time_zone(roles):
    rep = make_user(module="customers")
    rep.language = "zh-hans"
    rep.time_zone = "Asia/Shanghai"
    rep.save()
    task_for(rep, reminder_at=timezone.now() - timedelta(minutes=1), due_at=datetime(2030, 1, 2, 20, 30, tzinfo=UTC))
    services.task_reminders_send()
    body = mail.outbox[0].body
    assert "2030年1月3日" in body and "04:30" in body  # Chinese date format, Shanghai time


def test_an_inactive_assignee_gets_nothing_and_is_not_retried(roles):
    rep = make_user(module="customers")
    task = task_for(rep, reminder_at=timezone.now() - timedelta(minutes=1))
    rep.is_active = False
    rep.save()
    assert services.task_reminders_send() == 0
    task.refresh_from_db()
    assert task.reminded_at is not None and not mail.outbox


def test_a_mail_server_failure_does_not_stop_the_other_reminders(roles, settings, monkeypatch):
    first = make_user(module="customers")
    second = make_user(module="customers")
    task_for(first, title="one", reminder_at=timezone.now() - timedelta(minutes=2))
    task_for(second, title="two", reminder_at=timezone.now() - timedelta(minutes=1))
    calls = []

    def flaky_send_mail(subject, body, sender, recipients):
        calls.append(recipients)
        if len(calls) == 1:
            raise OSError("mail server down")

    monkeypatch.setattr(services, "send_mail", flaky_send_mail)
    assert services.task_reminders_send() == 2
    assert Notification.objects.count() == 2 and len(calls) == 2


# --- the bell ----------------------------------------------------------------------------------------


def bell(client, user):
    """The bell's dropdown, as the header loads it with htmx."""
    client.force_login(user)
    response = client.get(reverse("core:notification_list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response


def test_the_reminder_shows_in_the_assignees_bell_and_can_be_marked_read(client, roles):
    rep = make_user(module="customers")
    colleague = make_user(module="customers")
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=rep)
    task = task_for(rep, contact=ada, reminder_at=timezone.now() - timedelta(minutes=1))
    assert task_reminders_send_task.delay().get() == 1
    notice = Notification.objects.get(recipient=rep)
    link = f'<a href="{task.get_absolute_url()}"'

    response = bell(client, rep)
    content = response.content.decode()
    assert response.context["unread"] == 1 and 'title="1"' in content  # the red badge, with the count
    assert link in content and "Send the quote" in content and "Ada Lovelace" in content
    full_list = client.get(reverse("core:notification_list")).content.decode()
    assert link in full_list and reverse("core:notification_read", args=[notice.pk]) in full_list
    assert "You have 1 unread notification." in client.get(reverse("core:dashboard")).content.decode()

    # Another user's bell shows nothing of it, and they cannot mark it read.
    theirs = bell(client, colleague)
    assert theirs.context["unread"] == 0 and "badge-notification" not in theirs.content.decode()
    assert "Send the quote" not in theirs.content.decode() and task.get_absolute_url() not in theirs.content.decode()
    client.post(reverse("core:notification_read", args=[notice.pk]))  # still signed in as the colleague
    client.post(reverse("core:notification_read_all"))
    assert bell(client, rep).context["unread"] == 1

    # The assignee marks it read: the count drops to 0; an off-site "next" is not followed.
    client.force_login(rep)
    response = client.post(reverse("core:notification_read", args=[notice.pk]), {"next": "https://evil.example/x"})
    assert response.status_code == 302 and response["Location"] == reverse("core:notification_list")
    response = bell(client, rep)
    assert response.context["unread"] == 0 and "badge-notification" not in response.content.decode()
    assert link in response.content.decode()  # still listed, as read
    notice.refresh_from_db()
    assert notice.read_at is not None


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "http://testserver.evil.example/"])
def test_marking_all_read_stays_on_the_site(client, roles, target):
    rep = make_user(module="customers")
    for title in ("one", "two"):
        task_for(rep, title=title, reminder_at=timezone.now() - timedelta(minutes=1))
    assert services.task_reminders_send() == 2
    assert bell(client, rep).context["unread"] == 2

    response = client.post(reverse("core:notification_read_all"), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("core:notification_list")
    assert bell(client, rep).context["unread"] == 0

    # A "next" on the site is followed.
    task_for(rep, title="three", reminder_at=timezone.now() - timedelta(minutes=1))
    services.task_reminders_send()
    response = client.post(reverse("core:notification_read_all"), {"next": "/contacts/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/contacts/?page=2"
    assert bell(client, rep).context["unread"] == 0
