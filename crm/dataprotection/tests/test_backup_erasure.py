"""A person erased after a backup was made is erased again when that backup is restored: the erasure
also writes the erasure ledger beside the backups (ids and keyed email hashes only), which the restore
merges into the restored database before it erases again."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from crm.accounts.tests.factories import UserFactory
from crm.core.privacy import email_hash
from crm.dataprotection import services as privacy_services
from crm.dataprotection.backup import crypto, destinations, engine, ledger, restore, testing
from crm.dataprotection.backup.choices import BackupKind
from crm.dataprotection.models import ErasureRecord
from crm.dataprotection.tests.helpers import EMAIL, SECOND_EMAIL, make_person

pytestmark = pytest.mark.django_db(transaction=True)


def erase(boss, contact):
    request = privacy_services.privacy_request_create(
        actor=boss, kind="erase", subject_kind="contact", subject_id=contact.pk
    )
    privacy_services.privacy_request_start(actor=boss, request=request)


def test_a_person_erased_after_the_backup_is_erased_again_by_the_restore(backups, roles, templates):
    boss = UserFactory(username="boss", role=roles["administrator"])
    person = make_person(boss)
    contact = person["contact"]
    made = engine.run_backup(requested=BackupKind.FULL)
    erase(boss, contact)

    # The ledger beside the backups holds the person's kind, id and email hashes, nothing else.
    entry = json.loads((backups["dir"] / ledger.entry_name("contact", contact.pk)).read_text())
    assert entry == {
        "subject_kind": "contact",
        "subject_id": contact.pk,
        "email_hashes": sorted({email_hash(EMAIL), email_hash(SECOND_EMAIL)}),
    }

    target = testing.empty_database(connection.vendor, backups["tmp"], templates)
    try:
        sources = restore.local_sources([backups["dir"] / made.file_name])
        entries = ledger.read(destinations.LocalFolder(backups["dir"]))
        result = restore.restore(
            sources,
            crypto.read_identities(backups["key"]),
            database_url=target,
            ledger_entries=entries,
            media_root=str(backups["tmp"] / "restored-media"),
        )
        assert result["erased_again"] == 1 and result["ledger_merged"] == 1
        with testing.connect(target) as conn:
            name = testing.rows(conn, "SELECT first_name, last_name FROM customers_contact WHERE id = %s", [contact.pk])
            emails = testing.rows(
                conn, "SELECT COUNT(*) FROM customers_contactemail WHERE contact_id = %s", [contact.pk]
            )
            records = testing.rows(conn, "SELECT subject_kind, subject_id FROM dataprotection_erasurerecord")
            suppressed = {h for (h,) in testing.rows(conn, "SELECT email_hash FROM dataprotection_suppressedemail")}
            attachments = testing.rows(conn, "SELECT COUNT(*) FROM core_attachment")
        assert name and "Lovelace" not in " ".join(name[0])
        assert emails == [(0,)] and attachments == [(0,)]
        assert records == [("contact", contact.pk)]
        assert {email_hash(EMAIL), email_hash(SECOND_EMAIL)} <= suppressed
        # The file attached to the erased person is not written back either.
        assert not (backups["tmp"] / "restored-media" / person["attachment"].file.name).exists()
    finally:
        testing.drop_database(target)


def test_every_backup_writes_the_erasures_the_ledger_misses(backups, roles):
    ErasureRecord.objects.create(subject_kind="lead", subject_id=42, email_hashes=["a" * 64])
    destination = destinations.LocalFolder(backups["dir"])
    assert ledger.read(destination) == []
    engine.run_backup(requested=BackupKind.FULL)
    assert ledger.read(destination) == [{"subject_kind": "lead", "subject_id": 42, "email_hashes": ["a" * 64]}]
    assert ledger.sync(destination) == 0
