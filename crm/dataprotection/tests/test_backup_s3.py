"""Backups on S3-compatible storage, against a real HTTP S3 (moto's server mode): files and their
descriptions stored, the erasure ledger beside them, retention deleting old ones, a verification of
the stored files, and a restore of the chain fetched back from the bucket."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from django.db import connection
from moto.server import ThreadedMotoServer

from crm.accounts.tests.factories import UserFactory
from crm.customers import services as customer_services
from crm.dataprotection.backup import crypto, destinations, engine, ledger, restore, schedule, services, testing, verify
from crm.dataprotection.backup.choices import BackupKind, DestinationKind, VerifyLevel, VerifyStatus
from crm.dataprotection.models import Backup, BackupSettings, ErasureRecord

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "crm-backups"


@pytest.fixture
def s3(settings, tmp_path):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    settings.CRM_BACKUP_S3_BUCKET = BUCKET
    settings.CRM_BACKUP_S3_PREFIX = "site/"
    settings.CRM_BACKUP_S3_ENDPOINT_URL = endpoint
    settings.CRM_BACKUP_S3_REGION = "us-east-1"
    settings.CRM_BACKUP_S3_ACCESS_KEY_ID = "testing"
    settings.CRM_BACKUP_S3_SECRET_ACCESS_KEY = "testing"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "work"
    settings.CRM_BACKUP_DIR = tmp_path / "local"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def keys(client):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_chain_on_s3_is_stored_verified_restored_and_retired(s3, tmp_path, roles, templates):
    boss = UserFactory(username="boss", role=roles["administrator"])
    key, public = testing.identity(tmp_path)
    services.backup_recipient_add(actor=boss, name="Admin", public_key=public)
    services.backup_settings_update(actor=boss, data={"destination": DestinationKind.S3})
    customer_services.contact_create(actor=boss, data={"first_name": "Ada", "last_name": "Lovelace"})
    full = engine.run_backup(requested=BackupKind.FULL)
    customer_services.contact_create(actor=boss, data={"first_name": "Grace", "last_name": "Hopper"})
    ErasureRecord.objects.create(subject_kind="contact", subject_id=999, email_hashes=[])
    incremental = engine.run_backup(requested=BackupKind.INCREMENTAL)
    assert incremental.kind == BackupKind.INCREMENTAL and incremental.destination == f"s3://{BUCKET}/site/"
    assert keys(s3) == sorted(
        [
            f"site/{full.file_name}",
            f"site/{full.file_name.removesuffix('.age')}.json",
            f"site/{incremental.file_name}",
            f"site/{incremental.file_name.removesuffix('.age')}.json",
            "site/erasure-ledger/contact-999.json",
        ]
    )
    stored = s3.get_object(Bucket=BUCKET, Key=f"site/{incremental.file_name}")["Body"].read()
    assert len(stored) == incremental.size and b"Grace" not in stored  # encrypted

    # Verification of the stored files (no private key on the server), then a real restore from S3.
    assert verify.verify_latest()["level"] == VerifyLevel.STORED
    assert set(Backup.objects.values_list("verify_status", flat=True)) == {VerifyStatus.OK}
    destination = destinations.get(DestinationKind.S3)
    chain = restore.chain_from_destination(destination)
    assert [d["uid"] for d in chain] == [full.uid, incremental.uid]
    target = testing.empty_database(connection.vendor, tmp_path, templates)
    try:
        sources = restore.fetch(destination, chain, tmp_path)
        result = restore.restore(
            sources,
            crypto.read_identities(key),
            database_url=target,
            ledger_entries=ledger.read(destination),
            write_files=False,
        )
        assert result["backups"] == [full.uid, incremental.uid]
        with testing.connect(target) as conn:
            names = sorted(n for (n,) in testing.rows(conn, "SELECT first_name FROM customers_contact"))
        assert names == ["Ada", "Grace"]
    finally:
        testing.drop_database(target)

    # Retention removes a chain's files from the bucket once it is past keeping.
    BackupSettings.objects.filter(pk=1).update(keep_fulls=1, keep_incremental_days=1)
    engine.run_backup(requested=BackupKind.FULL)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert schedule.apply_retention(destination, now=later) == 2
    assert not any(full.uid in k or incremental.uid in k for k in keys(s3))
    assert Backup.objects.filter(status="complete").count() == 1


def test_the_page_and_the_settings_say_when_s3_is_unavailable(admin_client, monkeypatch, roles):
    monkeypatch.setattr(destinations, "s3_available", lambda: False)
    response = admin_client.get("/privacy/backups/")
    assert response.status_code == 200
    assert "S3 is unavailable" in response.content.decode()
    with pytest.raises(Exception, match="S3 is unavailable"):
        services.backup_settings_update(actor=None, data={"destination": DestinationKind.S3})
