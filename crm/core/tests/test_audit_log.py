"""The audit log page and API: filters by user, record type, action, path and date (in the viewer's
time zone), keyset pages that stay fast deep into the log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.tests.factories import UserFactory
from crm.core import context
from crm.core.choices import ChangeSource
from crm.core.models import JournalEntry
from crm.core.tests.sample.models import Gadget

pytestmark = pytest.mark.django_db


def _titles(response) -> list[str]:
    return [
        line.split("·", 1)[1].replace("</td>", "").strip()
        for line in response.content.decode().splitlines()
        if "Gadget ·" in line
    ]


@pytest.fixture
def history(admin_user):
    ann = UserFactory(username="ann", email="ann@example.com")
    bob = UserFactory(username="bob")
    with context.change_context(actor=ann, source=ChangeSource.WEB):
        Gadget.objects.create(name="By Ann", owner=ann)
    with context.change_context(actor=bob, source=ChangeSource.API):
        Gadget.objects.create(name="By Bob", owner=bob)
    return ann, bob


def test_filter_by_user_typed_as_username_or_email(admin_client, history):
    _ann, _bob = history
    for typed in ("ann", "ANN@example.com"):
        response = admin_client.get(reverse("core:audit_log"), {"actor": typed, "content_type": _gadget_type()})
        assert _titles(response) == ["By Ann"]
    api = admin_client.get("/api/v1/journal/", {"actor": "ann", "record_type": "gadget"}).json()
    assert {row["object_repr"] for row in api["results"] if row["record_type"] == "gadget"} == {"By Ann"}


def test_filter_by_path_and_action(admin_client, history):
    response = admin_client.get(
        reverse("core:audit_log"), {"source": "api", "action": "create", "content_type": _gadget_type()}
    )
    assert _titles(response) == ["By Bob"]


def test_date_filter_follows_the_viewers_time_zone(admin_client, admin_user, history):
    entry = JournalEntry.objects.get(object_repr="By Ann")
    # 23:30 UTC on 1 March is already 2 March in Shanghai.
    JournalEntry.objects.filter(pk=entry.pk).update(timestamp=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))
    admin_user.time_zone = "Asia/Shanghai"
    admin_user.save()
    on_second = admin_client.get(reverse("core:audit_log"), {"date_from": "2026-03-02", "date_to": "2026-03-02"})
    assert _titles(on_second) == ["By Ann"]
    on_first = admin_client.get(reverse("core:audit_log"), {"date_from": "2026-03-01", "date_to": "2026-03-01"})
    assert _titles(on_first) == []


def test_keyset_pages_walk_the_whole_log_without_gaps_or_repeats(admin_client, admin_user):
    for index in range(120):
        Gadget.objects.create(name=f"Item {index:03d}", owner=admin_user)
    seen, url, params = [], reverse("core:audit_log"), {"content_type": _gadget_type()}
    response = admin_client.get(url, params)
    while True:
        seen.extend(_titles(response))
        page = response.context["page"]
        if not page.has_next:
            break
        response = admin_client.get(url, {**params, "after": page.next_cursor})
    assert seen == [f"Item {index:03d}" for index in reversed(range(120))]
    back = admin_client.get(url, {**params, "before": response.context["page"].previous_cursor})
    assert _titles(back)[0] == "Item 069" and len(_titles(back)) == 50


def test_an_unreadable_cursor_shows_the_first_page(admin_client, history):
    response = admin_client.get(reverse("core:audit_log"), {"after": "not-a-cursor!!"})
    assert response.status_code == 200 and "By Bob" in response.content.decode()


def test_invalid_filter_values_are_a_form_error_not_a_crash(admin_client, history):
    response = admin_client.get(reverse("core:audit_log"), {"date_from": "31/02/2026", "content_type": "abc"})
    assert response.status_code == 200
    assert response.context["filterset"].errors


def _gadget_type() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Gadget).pk


def test_timestamps_are_shown_in_the_viewers_time_zone(admin_client, admin_user, history):
    entry = JournalEntry.objects.get(object_repr="By Ann")
    JournalEntry.objects.filter(pk=entry.pk).update(
        timestamp=timezone.make_aware(dt.datetime(2026, 3, 1, 23, 30), dt.UTC)
    )
    admin_user.time_zone = "Asia/Shanghai"
    admin_user.save()
    body = admin_client.get(
        reverse("core:audit_log"), {"object_id": str(entry.object_id), "content_type": _gadget_type()}
    ).content.decode()
    assert "7:30" in body and "03/02/2026" in body
