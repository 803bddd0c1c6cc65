"""What is due, what is kept, and how an incremental follows the changes: its size follows the amount
of change, not the size of the database; a journal entry committed late (PostgreSQL hands out ids
before commit) is still found; a stale running backup is marked failed; a full is made instead of an
incremental when one is needed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from crm.accounts.tests.factories import UserFactory
from crm.core.models import JournalEntry
from crm.customers import services as customer_services
from crm.customers.models import Contact
from crm.dataprotection import tasks
from crm.dataprotection.backup import crypto, destinations, engine, restore, schedule, services, testing
from crm.dataprotection.backup.choices import BackupKind, BackupStatus
from crm.dataprotection.models import Backup, BackupSettings

NOW = dt.datetime(2025, 3, 12, 10, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture
def backups(settings, tmp_path):
    settings.CRM_BACKUP_DIR = tmp_path / "backups"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "work"
    key, public = testing.identity(tmp_path)
    services.backup_recipient_add(actor=None, name="Admin", public_key=public)
    return {"key": key, "dir": tmp_path / "backups", "tmp": tmp_path}


def row(kind, started, *, status=BackupStatus.COMPLETE, chain="c1", sequence=0, destination=""):
    return Backup.objects.create(
        uid=f"{kind}-{started:%m%d%H%M}-{sequence}",
        kind=kind,
        status=status,
        chain=chain,
        sequence=sequence,
        started_at=started,
        destination=destination,
    )


# --- due -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_due_daily_full_then_incrementals():
    settings_row = engine.current_settings()
    assert schedule.due(NOW) == BackupKind.FULL  # nothing yet
    row(BackupKind.FULL, NOW.replace(hour=2, minute=1))
    assert schedule.due(NOW.replace(hour=2, minute=30)) == ""
    assert schedule.due(NOW.replace(hour=3, minute=2)) == BackupKind.INCREMENTAL  # every 60 minutes
    settings_row.incremental_minutes = 0
    settings_row.save()
    assert schedule.due(NOW.replace(hour=9)) == ""
    assert schedule.due(NOW + dt.timedelta(days=1)) == BackupKind.FULL  # the next day after 02:00
    settings_row.enabled = False
    settings_row.save()
    assert schedule.due(NOW + dt.timedelta(days=1)) == ""


@pytest.mark.django_db
def test_due_weekly_full_and_a_pause_after_a_failure():
    BackupSettings.objects.create(pk=1, full_frequency="weekly", full_weekday=0, incremental_minutes=0)
    row(BackupKind.FULL, NOW - dt.timedelta(days=2))  # Monday 10:00
    assert schedule.due(NOW) == ""
    assert schedule.due(NOW + dt.timedelta(days=5)) == BackupKind.FULL  # the next Monday, past 02:00
    row(BackupKind.FULL, NOW + dt.timedelta(days=5), status=BackupStatus.FAILED, chain="c2")
    assert schedule.due(NOW + dt.timedelta(days=5, minutes=10)) == ""
    assert schedule.due(NOW + dt.timedelta(days=5, minutes=40)) == BackupKind.FULL


@pytest.mark.django_db
def test_retention_keeps_n_fulls_and_m_days_of_incrementals(tmp_path):
    BackupSettings.objects.create(pk=1, keep_fulls=2, keep_incremental_days=3)
    folder = destinations.LocalFolder(tmp_path)
    made = {}
    for day in range(6):  # a full every day and two incrementals after it, days 0..5 before NOW
        started = NOW - dt.timedelta(days=5 - day)
        made[day] = [
            row(BackupKind.FULL, started, chain=f"d{day}", destination=str(tmp_path)),
            row(
                BackupKind.INCREMENTAL,
                started + dt.timedelta(hours=1),
                chain=f"d{day}",
                sequence=1,
                destination=str(tmp_path),
            ),
            row(
                BackupKind.INCREMENTAL,
                started + dt.timedelta(hours=2),
                chain=f"d{day}",
                sequence=2,
                destination=str(tmp_path),
            ),
        ]
        for backup in made[day]:
            backup.file_name = f"crm-{backup.uid}.age"
            backup.save()
            (tmp_path / backup.file_name).write_bytes(b"x")
            (tmp_path / destinations.sidecar_name(backup.file_name)).write_text("{}")
    removed = schedule.apply_retention(folder, now=NOW)
    kept = set(Backup.objects.values_list("chain", "sequence"))
    # Fulls of days 4 and 5 are the newest two; incrementals of days 2..5 are within three days, and the
    # fulls of days 2 and 3 are kept for them.
    assert kept == {(f"d{d}", s) for d in (2, 3, 4, 5) for s in (0, 1, 2)}
    assert removed == 6
    assert sorted(p.name for p in tmp_path.glob("*.age")) == sorted(b.file_name for d in (2, 3, 4, 5) for b in made[d])


# --- how backups run -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_what_is_due_and_a_stale_running_row_is_failed(backups):
    folder = destinations.LocalFolder(backups["dir"])
    stale = Backup.objects.create(
        uid="stale",
        kind=BackupKind.FULL,
        chain="stale",
        status=BackupStatus.RUNNING,
        file_name="crm-stale.age",
        destination=folder.label,
    )
    # It died just after giving its file the final name: not recorded as complete, so not kept.
    folder.prepare()
    (backups["dir"] / "crm-stale.age").write_bytes(b"x")
    (backups["dir"] / "crm-stale.json").write_text("{}")
    assert tasks.backup_due_task() != ""
    stale.refresh_from_db()
    assert stale.status == BackupStatus.FAILED and "Interrupted" in stale.error
    assert not (backups["dir"] / "crm-stale.age").exists() and not (backups["dir"] / "crm-stale.json").exists()
    made = Backup.objects.get(status=BackupStatus.COMPLETE)
    assert made.kind == BackupKind.FULL
    assert tasks.backup_due_task() == ""  # nothing due right after


@pytest.mark.django_db(transaction=True)
def test_a_full_is_made_when_an_incremental_cannot_continue_the_chain(backups):
    first = engine.run_backup(requested=BackupKind.INCREMENTAL)
    assert first.kind == BackupKind.FULL and "no complete backup" in first.manifest["full_reason"]
    assert engine.run_backup(requested=BackupKind.INCREMENTAL).kind == BackupKind.INCREMENTAL
    engine.require_full("the field-encryption keys were rotated")
    forced = engine.run_backup(requested=BackupKind.INCREMENTAL)
    assert forced.kind == BackupKind.FULL and forced.manifest["full_reason"] == "the field-encryption keys were rotated"
    assert engine.run_backup(requested=BackupKind.INCREMENTAL).kind == BackupKind.INCREMENTAL
    from django.db.migrations.recorder import MigrationRecorder

    MigrationRecorder(connection).record_applied("customers", "9999_later")
    try:
        changed = engine.run_backup(requested=BackupKind.INCREMENTAL)
    finally:
        MigrationRecorder(connection).record_unapplied("customers", "9999_later")
    assert changed.kind == BackupKind.FULL and "schema" in changed.manifest["full_reason"]
    assert engine.run_backup(requested=BackupKind.FULL).chain != changed.chain


@pytest.mark.django_db(transaction=True)
def test_a_backup_without_a_recipient_or_while_another_runs_is_refused(settings, tmp_path):
    settings.CRM_BACKUP_DIR = tmp_path / "b"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "w"
    with pytest.raises(engine.BackupRefused, match="recipient"):
        engine.run_backup(requested=BackupKind.FULL)
    services.backup_recipient_add(actor=None, name="Admin", public_key=crypto.generate()[1])
    with engine.backup_lock() as taken:
        assert taken
        if connection.vendor == "postgresql":  # the advisory lock is per session: ask from another one
            other = connection.copy()
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [engine.LOCK_KEY])
                assert cursor.fetchone()[0] is False
            other.close()
        else:
            with pytest.raises(engine.BackupBusy):
                engine.run_backup(requested=BackupKind.FULL)
    assert not Backup.objects.exists()


# --- what an incremental holds ---------------------------------------------------------------------------------


def _rows_in(backup) -> int:
    return sum(t["rows"] + t.get("gone", 0) for t in backup.manifest["tables"].values())


@pytest.mark.django_db(transaction=True)
def test_an_incremental_follows_the_amount_of_change_not_the_size_of_the_database(backups, roles, settings):
    # Everything here happens within seconds: without a safety window, only the changes are re-read.
    settings.CRM_BACKUP_SAFETY_WINDOW_SECONDS = 0
    boss = UserFactory(username="boss", role=roles["administrator"])
    sizes = {}
    for count in (20, 400):
        Contact.objects.all().delete()
        for i in range(count):
            customer_services.contact_create(actor=boss, data={"first_name": f"P{i}", "last_name": "Q"})
        engine.run_backup(requested=BackupKind.FULL)
        for contact in Contact.objects.order_by("pk")[:5]:
            customer_services.contact_update(
                actor=boss, contact=contact, data={"title": "Changed"}, version=contact.version
            )
        made = engine.run_backup(requested=BackupKind.INCREMENTAL)
        assert made.manifest["tables"]["customers_contact"]["rows"] == 5
        sizes[count] = (_rows_in(made), made.size)
    assert sizes[20][0] == sizes[400][0]  # the same rows, whatever the database holds
    assert sizes[400][1] < sizes[20][1] * 1.5


@pytest.mark.django_db(transaction=True)
def test_a_journal_entry_committed_after_the_backup_below_its_position_is_still_found(backups, roles, tmp_path):
    """PostgreSQL hands out journal ids when a transaction writes, not when it commits: an entry may
    appear after a backup with an id below that backup's position. The next incremental re-reads the
    objects touched in a safety window before the previous backup."""
    boss = UserFactory(username="boss", role=roles["administrator"])
    late = customer_services.contact_create(actor=boss, data={"first_name": "Late", "last_name": "Commit"})
    hole = JournalEntry.objects.order_by("-pk").first()
    customer_services.contact_create(actor=boss, data={"first_name": "Other", "last_name": "Contact"})
    hole_id = hole.pk
    hole.delete()  # the id a transaction still running held when the backup ran
    full = engine.run_backup(requested=BackupKind.FULL)
    assert full.journal_position > hole_id
    # That transaction commits now: its change and its entry, with the id it held.
    Contact.objects.filter(pk=late.pk).update(title="Committed late")
    JournalEntry.objects.create(
        id=hole_id,
        actor=boss,
        source="web",
        action="update",
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(late.pk),
        object_repr="Late Commit",
        changes={"title": ["", "Committed late"]},
        timestamp=full.snapshot_at - dt.timedelta(seconds=1),
    )
    made = engine.run_backup(requested=BackupKind.INCREMENTAL)
    assert made.manifest["tables"]["customers_contact"]["rows"] >= 1
    target = testing.blank_database(connection.vendor, tmp_path)
    try:
        sources = restore.local_sources([backups["dir"] / full.file_name, backups["dir"] / made.file_name])
        restore.restore(sources, crypto.read_identities(backups["key"]), database_url=target, write_files=False)
        with testing.connect(target) as conn:
            assert testing.rows(conn, "SELECT title FROM customers_contact WHERE id = %s", [late.pk]) == [
                ("Committed late",)
            ]
            assert testing.rows(conn, "SELECT COUNT(*) FROM core_journalentry WHERE id = %s", [hole_id]) == [(1,)]
    finally:
        testing.drop_database(target)


@pytest.mark.django_db(transaction=True)
def test_the_description_beside_a_backup_is_public(backups):
    made = engine.run_backup(requested=BackupKind.FULL)
    description = json.loads((backups["dir"] / destinations.sidecar_name(made.file_name)).read_text())
    assert set(description) == {
        "format",
        "uid",
        "kind",
        "chain",
        "sequence",
        "parent",
        "created_at",
        "file",
        "size",
        "sha256",
    }
    assert description["sha256"] == made.sha256 == destinations.sha256_of(backups["dir"] / made.file_name)
    assert oct((backups["dir"] / made.file_name).stat().st_mode & 0o777) == "0o600"
    assert timezone.is_aware(made.snapshot_at)


@pytest.mark.django_db(transaction=True)
def test_a_changed_custom_field_makes_the_next_backup_full(backups, roles):
    """Turning a custom field sensitive re-encrypts its values on every record, with one journal entry
    (the field's): an incremental could not hold that, so a full backup is made instead."""
    from crm.customers.custom_fields import services as definitions

    boss = UserFactory(username="boss", role=roles["administrator"])
    customer_services.contact_create(actor=boss, data={"first_name": "Ada", "last_name": "L"})
    engine.run_backup(requested=BackupKind.FULL)
    definitions.custom_field_create(actor=boss, entity="contact", key="shoe", label="Shoe size", kind="text")
    made = engine.run_backup(requested=BackupKind.INCREMENTAL)
    assert made.kind == BackupKind.FULL and made.sequence == 0 and made.chain == made.uid
    assert "custom field" in made.manifest["full_reason"] and "-full-" in made.file_name
    assert (backups["dir"] / made.file_name).exists()
    assert engine.run_backup(requested=BackupKind.INCREMENTAL).kind == BackupKind.INCREMENTAL
