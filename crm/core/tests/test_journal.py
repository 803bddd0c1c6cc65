"""Every write path lands in the journal, in the same transaction, with who, how and what."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction

from crm.accounts.models import Team
from crm.core import context
from crm.core.choices import ChangeSource
from crm.core.models import JournalEntry
from crm.core.testing import api_client, journal_entries, make_user
from crm.core.tests.sample import services
from crm.core.tests.sample.models import Gadget, Label
from crm.core.tests.sample.tasks import gadget_rename_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(roles):
    return make_user(module="sample", username="writer")


def test_service_create_update_delete_record_old_and_new_values(writer):
    with context.change_context(actor=writer, source=ChangeSource.WEB):
        gadget = services.gadget_create(actor=writer, name="Alpha", notes="first")
        services.gadget_update(actor=writer, gadget=gadget, data={"name": "Beta"}, version=gadget.version)
        gadget_id = gadget.pk
        services.gadget_delete(actor=writer, gadget=gadget)
    entries = list(JournalEntry.objects.filter(content_type__model="gadget", object_id=str(gadget_id)).order_by("id"))
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert entries[0].changes["name"] == [None, "Alpha"]
    assert entries[1].changes == {"name": ["Alpha", "Beta"]}
    assert entries[2].changes["name"] == ["Beta", None]
    assert {e.actor_id for e in entries} == {writer.pk}
    assert {e.source for e in entries} == {"web"}


def test_sequence_numbers_strictly_increase(writer):
    for index in range(5):
        Gadget.objects.create(name=f"G{index}", owner=writer)
    ids = list(JournalEntry.objects.order_by("timestamp", "id").values_list("id", flat=True))
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_bulk_update_and_bulk_create_and_queryset_delete_are_journaled(writer):
    created = Gadget.objects.bulk_create([Gadget(name=f"Bulk {i}", owner=writer) for i in range(3)])
    assert all(journal_entries(g).filter(action="create").exists() for g in created)

    Gadget.objects.filter(pk__in=[g.pk for g in created]).update(notes="mass edit")
    for gadget in created:
        assert journal_entries(gadget).filter(action="update").get().changes == {"notes": ["", "mass edit"]}

    for gadget in created:
        gadget.name = gadget.name.upper()
    Gadget.objects.bulk_update(created, ["name"])
    assert journal_entries(created[0]).filter(action="update").last().changes == {"name": ["Bulk 0", "BULK 0"]}

    Gadget.objects.filter(pk__in=[g.pk for g in created]).delete()
    assert all(journal_entries(g).filter(action="delete").exists() for g in created)


def test_update_with_no_real_change_writes_nothing(writer):
    gadget = Gadget.objects.create(name="Same", owner=writer)
    before = JournalEntry.objects.count()
    Gadget.objects.filter(pk=gadget.pk).update(name="Same")
    gadget.save()
    assert JournalEntry.objects.count() == before


def test_many_to_many_changes_from_both_sides(writer):
    gadget = Gadget.objects.create(name="Tagged", owner=writer)
    red, blue = Label.objects.create(name="red"), Label.objects.create(name="blue")
    gadget.tags.add(red, blue)
    gadget.tags.remove(red)
    blue.gadget_set.remove(gadget)
    changes = [e.changes for e in journal_entries(gadget).filter(action="update")]
    assert changes == [
        {"tags": {"add": sorted([red.pk, blue.pk])}},
        {"tags": {"remove": [red.pk]}},
        {"tags": {"remove": [blue.pk]}},
    ]


def test_page_and_api_paths_are_named(client, writer):
    client.force_login(writer)
    client.post("/sample/gadgets/new/", {"name": "From page"})
    api_client(writer).post("/api/v1/sample/gadgets/", {"name": "From API"}, format="json")
    by_name = {e.object_repr: e for e in JournalEntry.objects.filter(action="create", content_type__model="gadget")}
    assert by_name["From page"].source == "web" and by_name["From page"].actor_id == writer.pk
    assert by_name["From API"].source == "api" and by_name["From API"].actor_id == writer.pk
    assert by_name["From page"].request_id


def test_django_admin_path_is_journaled(client, roles):
    from crm.accounts.tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    team = Team.objects.create(name="Before")
    response = client.post(
        f"/admin/accounts/team/{team.pk}/change/", {"name": "After", "description": "", "members": []}
    )
    assert response.status_code == 302
    entry = journal_entries(team).filter(action="update").get()
    assert entry.changes["name"] == ["Before", "After"]
    assert entry.source == "admin" and entry.actor_id == staff.pk


def test_task_path_is_journaled(writer):
    gadget = Gadget.objects.create(name="Queued", owner=writer)
    gadget_rename_task.delay(gadget.pk, "Renamed by task")
    entry = journal_entries(gadget).filter(action="update").get()
    assert entry.source == "task" and entry.changes == {"name": ["Queued", "Renamed by task"]}


def test_management_command_path_is_journaled(roles):
    call_command("demo_data", stdout=mock.Mock())
    team = Team.objects.get(name="Sales East")
    assert journal_entries(team).filter(action="create", source="command").exists()


def test_changes_outside_any_entry_point_default_to_command_when_run_by_manage_py(monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "shell"])
    assert context.current().source == "command"
    monkeypatch.setattr("sys.argv", ["gunicorn"])
    assert context.current().source == "system"


def test_passwords_are_redacted_and_last_login_ignored(roles):
    from crm.accounts.tests.factories import UserFactory

    user = UserFactory()
    user.set_password("another long password")
    user.save()
    entry = journal_entries(user).filter(action="update").get()
    assert entry.changes == {"password": ["***", "***"]}
    from django.contrib.auth.models import update_last_login

    update_last_login(None, user)
    assert journal_entries(user).filter(action="update").count() == 1


def test_a_failing_journal_write_rolls_the_change_back(writer):
    with mock.patch("crm.core.journal._write", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            Gadget.objects.create(name="Never", owner=writer)
        with pytest.raises(RuntimeError):
            Gadget.objects.bulk_create([Gadget(name="Never either", owner=writer)])
    assert not Gadget.objects.filter(name__startswith="Never").exists()


def test_cascaded_deletes_are_journaled(writer):
    """A queryset delete goes through the collector, which reports each deleted row."""
    from crm.accounts.tests.factories import TeamFactory

    team = TeamFactory(members=[writer])
    team_id = team.pk
    with transaction.atomic():
        Team.objects.filter(pk=team_id).delete()
    entry = JournalEntry.objects.get(content_type__model="team", object_id=str(team_id), action="delete")
    assert entry.changes["name"][0] == team.name
