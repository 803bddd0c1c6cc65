"""The commands: ``backup_keygen`` (a private key only its owner reads), ``backup`` (full, incremental,
verify with a private key) and ``restore`` (the newest chain of the configured destination)."""

from __future__ import annotations

import io
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from crm.accounts.tests.factories import UserFactory
from crm.customers import services as customer_services
from crm.dataprotection.backup import testing
from crm.dataprotection.backup.choices import VerifyLevel, VerifyStatus
from crm.dataprotection.models import Backup, BackupRecipient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def folders(settings, tmp_path):
    settings.CRM_BACKUP_DIR = tmp_path / "backups"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "work"
    return tmp_path


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_keygen_writes_a_private_key_its_owner_alone_reads(folders):
    path = folders / "key.txt"
    output = run("backup_keygen", "--out", str(path), "--add", "Ada")
    public = output.strip().splitlines()[-1]
    assert public.startswith("age1") and public in path.read_text()
    assert "AGE-SECRET-KEY-1" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert BackupRecipient.objects.get().public_key == public
    with pytest.raises(CommandError, match="exists already"):
        run("backup_keygen", "--out", str(path))


def test_backup_needs_a_recipient(folders):
    with pytest.raises(CommandError, match="recipient"):
        run("backup", "--full")


def test_backup_verify_and_restore_the_latest_chain(folders, roles, templates):
    key = folders / "key.txt"
    run("backup_keygen", "--out", str(key), "--add", "Admin")
    boss = UserFactory(username="boss", role=roles["administrator"])
    customer_services.contact_create(actor=boss, data={"first_name": "Ada", "last_name": "Lovelace"})
    assert "(full) complete" in run("backup", "--full", "--quiet-progress")
    customer_services.contact_create(actor=boss, data={"first_name": "Grace", "last_name": "Hopper"})
    assert "(incremental) complete" in run("backup", "--incremental", "--quiet-progress")
    assert "Verified" in run("backup", "--verify", "--identity", str(key), "--quiet-progress")
    assert set(Backup.objects.values_list("verify_status", "verify_level")) == {(VerifyStatus.OK, VerifyLevel.RESTORED)}
    with pytest.raises(CommandError, match="identity"):
        run("restore")
    target = testing.empty_database(connection.vendor, folders, templates)
    try:
        output = run("restore", "--identity", str(key), "--database-url", target, "--no-files")
        assert "every count and checksum as in the manifests" in output
        with testing.connect(target) as conn:
            assert sorted(n for (n,) in testing.rows(conn, "SELECT first_name FROM customers_contact")) == [
                "Ada",
                "Grace",
            ]
        with pytest.raises(CommandError, match="not empty"):
            run("restore", "--identity", str(key), "--database-url", target, "--no-files")
    finally:
        testing.drop_database(target)
