"""A backup made by an older version (fewer migrations) restores: the target is migrated to the
backup's schema, loaded and checked, then brought up to date by the newer migrations."""

from __future__ import annotations

import io

import pytest
from django.db import connection

from crm.accounts.tests.factories import UserFactory
from crm.customers import services as customer_services
from crm.dataprotection.backup import archive, crypto, engine, restore, services, testing
from crm.dataprotection.backup.choices import BackupKind

pytestmark = pytest.mark.django_db(transaction=True)

NEWER = ("dataprotection", "0003_backups")  # the migration the older version did not have
ITS_TABLES = {"dataprotection_backup", "dataprotection_backupsettings", "dataprotection_backuprecipient"}


def as_made_before(path, identities, public, target):
    """Rewrite a backup as the version before ``NEWER`` would have made it."""
    plain = io.BytesIO()
    with open(path, "rb") as source:
        crypto.decrypt(source, plain, identities)
    plain.seek(0)
    chunks: list[bytes] = []
    writer = archive.Writer(chunks.append)
    skipping = False
    for tag, payload in archive.frames(plain):
        value = archive.read_json(payload) if tag in (archive.HEADER, archive.TABLE, archive.TRAILER) else None
        if tag == archive.HEADER:
            value["schema"][NEWER[0]].remove(NEWER[1])
        elif tag == archive.TABLE:
            skipping = value["table"] in ITS_TABLES
        elif tag == archive.TRAILER:
            value["tables"] = {k: v for k, v in value["tables"].items() if k not in ITS_TABLES}
        if skipping and tag != archive.TRAILER:
            continue
        if value is not None:
            writer.json(tag, value)
        else:
            writer.frame(tag, payload)
    writer.close()
    with open(target, "wb") as out:
        crypto.encrypt(chunks, out, [public])


def test_a_backup_from_an_older_version_is_restored_and_migrated(settings, tmp_path, roles, templates):
    settings.CRM_BACKUP_DIR = tmp_path / "backups"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "work"
    key, public = testing.identity(tmp_path)
    services.backup_recipient_add(actor=None, name="Admin", public_key=public)
    boss = UserFactory(username="boss", role=roles["administrator"])
    customer_services.contact_create(actor=boss, data={"first_name": "Ada", "last_name": "Lovelace"})
    made = engine.run_backup(requested=BackupKind.FULL)
    identities = crypto.read_identities(key)
    older = tmp_path / "older.age"
    as_made_before(settings.CRM_BACKUP_DIR / made.file_name, identities, public, older)

    target = testing.blank_database(connection.vendor, tmp_path)
    try:
        result = restore.restore(restore.local_sources([older]), identities, database_url=target, write_files=False)
        assert "dataprotection_backup" not in result["tables"]
        with testing.connect(target) as conn:
            assert testing.rows(conn, "SELECT first_name FROM customers_contact") == [("Ada",)]
            applied = testing.rows(conn, "SELECT name FROM django_migrations WHERE app = %s", [NEWER[0]])
            assert (NEWER[1],) in applied  # brought up to date after the load
            assert testing.rows(conn, "SELECT COUNT(*) FROM dataprotection_backup") == [(0,)]
    finally:
        testing.drop_database(target)
