"""A restore refuses, with a clear message and without touching the target, a file that is cut short,
altered, encrypted to another key, out of chain order, or made by a newer version; and a target that
holds data."""

from __future__ import annotations

import shutil

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from crm.accounts.tests.factories import UserFactory
from crm.customers import services as customer_services
from crm.dataprotection.backup import crypto, engine, restore, testing
from crm.dataprotection.backup.choices import BackupKind
from crm.dataprotection.models import Backup

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chain(backups, roles):
    """A full backup and two incrementals of a small database: their files, in order."""
    boss = UserFactory(username="boss", role=roles["administrator"])
    for i in range(3):
        customer_services.contact_create(actor=boss, data={"first_name": f"P{i}", "last_name": "Q"})
    engine.run_backup(requested=BackupKind.FULL)
    for i in range(2):
        customer_services.contact_create(actor=boss, data={"first_name": f"Later{i}", "last_name": "Q"})
        engine.run_backup(requested=BackupKind.INCREMENTAL)
    rows = list(Backup.objects.order_by("started_at", "pk"))
    assert [b.kind for b in rows] == ["full", "incremental", "incremental"]
    return [backups["dir"] / b.file_name for b in rows]


def refused(files, key, target, **kwargs):
    with pytest.raises(restore.RestoreError) as caught:
        restore.restore(restore.local_sources(files), crypto.read_identities(key), database_url=target, **kwargs)
    return str(caught.value)


def untouched(target):
    """The target still has no table at all."""
    with testing.connect(target) as conn:
        return conn.introspection.table_names() == []


@pytest.fixture
def blank(backups):
    url = testing.blank_database(connection.vendor, backups["tmp"])
    yield url
    testing.drop_database(url)


def test_a_file_cut_short_is_refused(backups, chain, blank):
    data = chain[1].read_bytes()
    cut = backups["tmp"] / "cut" / chain[1].name
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) // 2])
    message = refused([chain[0], cut], backups["key"], blank)
    assert chain[1].name in message and "cut short" in message
    assert untouched(blank)


def test_an_altered_file_is_refused(backups, chain, blank):
    altered = backups["tmp"] / "altered"
    altered.mkdir()
    for path in chain:
        shutil.copy(path, altered / path.name)
    data = bytearray((altered / chain[0].name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (altered / chain[0].name).write_bytes(bytes(data))
    message = refused([altered / p.name for p in chain], backups["key"], blank)
    assert chain[0].name in message and "altered" in message
    assert untouched(blank)


def test_a_file_is_refused_when_only_its_description_disagrees(backups, chain, blank):
    """A backup swapped for another valid one under its name does not match the description beside it."""
    swapped = backups["tmp"] / "swapped"
    swapped.mkdir()
    shutil.copy(chain[1], swapped / chain[0].name)
    sidecar = chain[0].with_name(chain[0].name.removesuffix(".age") + ".json")
    shutil.copy(sidecar, swapped / sidecar.name)
    message = refused([swapped / chain[0].name], backups["key"], blank)
    assert "does not match its description" in message
    assert untouched(blank)


def test_another_key_cannot_restore(backups, chain, blank):
    other, _public = testing.identity(backups["tmp"], "other.txt")
    message = refused(chain, other, blank)
    assert "cannot be decrypted with this key" in message
    assert untouched(blank)


def test_files_out_of_chain_order_are_refused(backups, chain, blank):
    assert "not a full backup" in refused([chain[1], chain[2]], backups["key"], blank)
    message = refused([chain[0], chain[2]], backups["key"], blank)
    assert chain[2].name in message and "does not follow" in message
    message = refused([chain[0], chain[2], chain[1]], backups["key"], blank)
    assert "does not follow" in message
    assert untouched(blank)


def test_a_backup_from_a_newer_version_is_refused(backups, blank, roles):
    MigrationRecorder(connection).record_applied("customers", "9999_from_the_future")
    try:
        made = engine.run_backup(requested=BackupKind.FULL)
    finally:
        MigrationRecorder(connection).record_unapplied("customers", "9999_from_the_future")
    message = refused([backups["dir"] / made.file_name], backups["key"], blank)
    assert "newer version of the CRM" in message and "customers.9999_from_the_future" in message
    assert untouched(blank)


def test_a_target_holding_data_is_refused_and_left_as_it_was(backups, chain, templates):
    target = testing.empty_database(connection.vendor, backups["tmp"], templates)
    try:
        with testing.connect(target) as conn, conn.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customers_tag (name, color, created_at, updated_at) VALUES ('Kept', '', %s, %s)",
                ["2025-01-01 00:00:00", "2025-01-01 00:00:00"],
            )
        message = refused(chain, backups["key"], target)
        assert "not empty" in message and "customers_tag" in message
        with testing.connect(target) as conn:
            assert testing.rows(conn, "SELECT name FROM customers_tag") == [("Kept",)]
            assert testing.rows(conn, "SELECT COUNT(*) FROM customers_contact") == [(0,)]
    finally:
        testing.drop_database(target)


def test_a_full_backup_made_after_the_point_in_time_is_refused(backups, chain, blank):
    import datetime as dt

    full = Backup.objects.get(kind="full")
    message = refused(chain, backups["key"], blank, until=full.snapshot_at - dt.timedelta(seconds=1))
    assert "after the point in time" in message
    assert untouched(blank)
