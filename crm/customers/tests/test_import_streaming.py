"""Large files: streamed a batch at a time, and a job whose worker died carries on where it stopped."""

from __future__ import annotations

import time

import pytest
from django.core.files.storage import default_storage

from crm.core.choices import JobStatus
from crm.core.models import Job, JournalEntry
from crm.customers.io import importing, views  # noqa: F401 - the pages keep the real map_rows
from crm.customers.io.testing import csv_bytes, finished_job, media_fixture, start_import, upload
from crm.customers.models import Contact, ContactEmail

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()


def _rows(count: int, start: int = 0) -> list[list[str]]:
    return [
        [f"Person {i}", f"person{i}@example.com", f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}", f"Company {i % 50}"]
        for i in range(start, start + count)
    ]


def test_twenty_thousand_rows_stream_through_in_batches(admin_client, django_capture_on_commit_callbacks, monkeypatch):
    data = csv_bytes([["Name", "Email", "Mobile", "Company"], *_rows(20_000)])
    produced = {"rows": 0, "largest_lead": 0}
    real_map_rows = importing.map_rows
    real_import_batch = importing.ContactImporter.import_batch

    def counting_map_rows(header, rows, mapping):
        for row in real_map_rows(header, rows, mapping):
            produced["rows"] += 1
            yield row

    def watching_import_batch(self, rows, *, write=True):
        saved = self.counts.created + self.counts.updated + self.counts.skipped + self.counts.rejected
        produced["largest_lead"] = max(produced["largest_lead"], produced["rows"] - saved)
        return real_import_batch(self, rows, write=write)

    monkeypatch.setattr(importing, "map_rows", counting_map_rows)
    monkeypatch.setattr("crm.customers.io.tasks.map_rows", counting_map_rows, raising=False)
    monkeypatch.setattr(importing.ContactImporter, "import_batch", watching_import_batch)
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(data))
    job = finished_job(response)
    elapsed = time.perf_counter() - started
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 20_000 and job.result["companies_created"] == 50
    assert Contact.objects.count() == 20_000 and ContactEmail.objects.count() == 20_000
    # Never more than one batch read ahead of what is saved: memory does not grow with the file.
    assert produced["rows"] == 20_000 and produced["largest_lead"] <= importing.BATCH_SIZE
    assert elapsed < 120
    assert not default_storage.exists(job.params["path"])  # the upload is removed once imported


def test_a_job_whose_worker_died_carries_on_after_the_last_saved_batch(admin_user, monkeypatch):
    from crm.customers.io.reading import inspect_file
    from crm.customers.io.services import contact_import_start
    from crm.customers.io.tasks import contact_import_task

    monkeypatch.setattr(importing, "BATCH_SIZE", 100)
    rows = [["Name", "Email"], *([f"Person {i}", f"p{i}@example.com"] for i in range(350)), ["", "bad"]]
    path = importing.store_upload(upload(csv_bytes(rows)))
    with default_storage.open(path, "rb") as handle:
        info = inspect_file(handle)
    job = contact_import_start(
        actor=admin_user,
        path=path,
        file_name="contacts.csv",
        info=info,
        mapping=["full_name", "email"],
        has_header=True,
        duplicates="create",
    )

    class WorkerDied(BaseException):
        pass

    real = importing.ContactImporter.import_batch
    calls = {"n": 0}

    def dies_in_the_third_batch(self, batch, *, write=True):
        if write:
            calls["n"] += 1
            if calls["n"] == 3:
                raise WorkerDied
        return real(self, batch, write=write)

    monkeypatch.setattr(importing.ContactImporter, "import_batch", dies_in_the_third_batch)
    with pytest.raises(WorkerDied):
        contact_import_task(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.result["done"] == 200 and Contact.objects.count() == 200
    assert default_storage.exists(path)  # kept for the next delivery

    monkeypatch.setattr(importing.ContactImporter, "import_batch", real)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=job.heartbeat_at.replace(year=2000))
    journal_before = JournalEntry.objects.count()
    contact_import_task(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 350 and job.result["rejected"] == 1  # the rejected row of an earlier batch too
    assert Contact.objects.count() == 350  # no row imported twice, even with duplicates created
    assert JournalEntry.objects.count() - journal_before == 150
    assert not default_storage.exists(path)


def test_uploads_never_imported_are_swept_after_a_day(admin_user):
    import os

    from crm.customers.io.tasks import import_uploads_sweep_task

    old = importing.store_upload(upload(b"Name\r\nAda\r\n"))
    fresh = importing.store_upload(upload(b"Name\r\nGrace\r\n"))
    waiting = importing.store_upload(upload(b"Name\r\nAlan\r\n"))
    Job.objects.create(kind="contact_import", created_by=admin_user, params={"path": waiting})
    for path in (old, waiting):
        os.utime(default_storage.path(path), (time.time() - 2 * 86400, time.time() - 2 * 86400))
    assert import_uploads_sweep_task() == 1
    assert not default_storage.exists(old) and default_storage.exists(fresh) and default_storage.exists(waiting)
