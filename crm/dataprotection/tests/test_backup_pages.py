"""The backups page (Settings -> Backups): permissions, empty state, the list with its pages, the
schedule form, the recipients, and "Back up now" / "Verify now" as jobs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.choices import JobStatus
from crm.core.models import Job, JournalEntry
from crm.core.registry import platform
from crm.core.testing import make_user
from crm.dataprotection import tasks
from crm.dataprotection.backup import crypto, services
from crm.dataprotection.backup.choices import BackupKind, BackupStatus, VerifyStatus
from crm.dataprotection.models import Backup, BackupRecipient, BackupSettings

LIST = reverse("dataprotection:backup_list")


@pytest.fixture
def folders(settings, tmp_path):
    settings.CRM_BACKUP_DIR = tmp_path / "backups"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "work"
    return tmp_path


def public_key() -> str:
    return crypto.generate()[1]


@pytest.mark.django_db
def test_the_page_needs_the_data_privacy_module(client, roles):
    client.force_login(make_user(module="customers"))
    assert client.get(LIST).status_code == 403
    assert client.post(reverse("dataprotection:backup_start"), {"kind": "full"}).status_code == 403
    reader = make_user(module="dataprotection", actions=("view",))
    client.force_login(reader)
    page = client.get(LIST)
    assert page.status_code == 200 and 'data-testid="backup-now"' not in page.content.decode()
    for name in ("backup_settings", "backup_start", "backup_verify", "backup_recipient_add"):
        assert client.post(reverse(f"dataprotection:{name}"), {}).status_code == 403
    nav = [item for item in platform.nav if item.url_name == "dataprotection:backup_list"]
    assert nav and nav[0].section == "admin" and nav[0].module == "dataprotection"


@pytest.mark.django_db
def test_empty_state_and_a_paginated_list(admin_client, folders):
    page = admin_client.get(LIST).content.decode()
    assert "No backups yet" in page and 'data-testid="no-recipients"' in page
    now = timezone.now()
    for n in range(30):
        Backup.objects.create(
            uid=f"uid-{n:02d}",
            kind=BackupKind.FULL if n % 5 == 0 else BackupKind.INCREMENTAL,
            status=BackupStatus.COMPLETE,
            chain="chain-1",
            sequence=n % 5,
            started_at=now - timezone.timedelta(hours=n),
            size=1024 * (n + 1),
            destination=str(folders),
            verified_at=now if n == 0 else None,
            verify_status=VerifyStatus.OK if n == 0 else "",
            verify_level="restored" if n == 0 else "",
        )
    first = admin_client.get(LIST).content.decode()
    assert first.count('data-testid="backup"') == 25 and "uid-00" in first and "uid-29" not in first
    assert "Verified" in first and "1.0\xa0KB" in first
    second = admin_client.get(LIST, {"page": 2}).content.decode()
    assert second.count('data-testid="backup"') == 5 and "uid-29" in second


@pytest.mark.django_db
def test_the_schedule_is_saved_checked_and_journaled(admin_client, folders):
    data = {
        "enabled": "on",
        "full_frequency": "weekly",
        "full_time": "03:30",
        "full_weekday": "2",
        "incremental_minutes": "30",
        "keep_fulls": "4",
        "keep_incremental_days": "10",
        "destination": "local",
    }
    assert admin_client.post(reverse("dataprotection:backup_settings"), data).status_code == 302
    row = BackupSettings.objects.get()
    assert (row.full_frequency, row.full_time.hour, row.full_time.minute, row.full_weekday) == ("weekly", 3, 30, 2)
    assert (row.incremental_minutes, row.keep_fulls, row.keep_incremental_days) == (30, 4, 10)
    assert JournalEntry.objects.filter(content_type__model="backupsettings").exists()
    bad = admin_client.post(
        reverse("dataprotection:backup_settings"), {**data, "incremental_minutes": "7", "keep_fulls": "0"}
    )
    assert bad.status_code == 400
    assert BackupSettings.objects.get().keep_fulls == 4


@pytest.mark.django_db
def test_recipients_are_checked_added_and_removed(admin_client, folders):
    add = reverse("dataprotection:backup_recipient_add")
    bad = admin_client.post(add, {"name": "Ada", "public_key": "ssh-rsa AAAA"})
    assert bad.status_code == 400 and "age public key" in bad.content.decode()
    key = public_key()
    assert admin_client.post(add, {"name": "Ada", "public_key": f"  {key} "}).status_code == 302
    assert admin_client.post(add, {"name": "Twice", "public_key": key}).status_code == 400
    assert BackupRecipient.objects.get().public_key == key
    only = BackupRecipient.objects.get()
    response = admin_client.post(reverse("dataprotection:backup_recipient_remove", args=[only.pk]), follow=True)
    assert "Keep at least one recipient" in response.content.decode()
    second = services.backup_recipient_add(actor=None, name="Grace", public_key=public_key())
    assert admin_client.post(reverse("dataprotection:backup_recipient_remove", args=[second.pk])).status_code == 302
    assert list(BackupRecipient.objects.values_list("name", flat=True)) == ["Ada"]
    assert JournalEntry.objects.filter(content_type__model="backuprecipient").count() == 3


@pytest.mark.django_db(transaction=True)
def test_back_up_now_and_verify_now_run_as_jobs(admin_client, admin_user, folders):
    start = reverse("dataprotection:backup_start")
    response = admin_client.post(start, {"kind": "full"}, follow=True)
    assert "Add at least one recipient" in response.content.decode()
    services.backup_recipient_add(actor=admin_user, name="Admin", public_key=public_key())
    response = admin_client.post(start, {"kind": "full"})
    assert response.status_code == 302
    job = Job.objects.get(kind=tasks.BACKUP_RUN)
    assert job.status == JobStatus.SUCCEEDED, job.error
    backup = Backup.objects.get()
    assert backup.status == BackupStatus.COMPLETE and backup.job_id == job.pk and backup.started_by == admin_user
    assert job.result["backup"] == backup.uid and (folders / "backups" / backup.file_name).exists()

    admin_client.post(start, {"kind": "incremental"})
    assert Backup.objects.filter(kind=BackupKind.INCREMENTAL, status=BackupStatus.COMPLETE).count() == 1

    assert admin_client.post(reverse("dataprotection:backup_verify")).status_code == 302
    verification = Job.objects.get(kind=tasks.BACKUP_VERIFY)
    assert verification.status == JobStatus.SUCCEEDED, verification.error
    assert set(Backup.objects.values_list("verify_status", "verify_level")) == {(VerifyStatus.OK, "stored")}
    page = admin_client.get(LIST).content.decode()
    assert page.count('data-testid="backup"') == 2 and "Stored file checked" in page


@pytest.mark.django_db
def test_a_second_start_is_refused_while_one_runs(admin_user, folders):
    services.backup_recipient_add(actor=admin_user, name="Admin", public_key=public_key())
    Job.objects.create(kind=tasks.BACKUP_RUN, created_by=admin_user, status=JobStatus.RUNNING)
    with pytest.raises(Exception, match="running already"):
        services.backup_start(actor=admin_user, kind="full")
