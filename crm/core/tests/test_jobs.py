"""Background jobs: progress, outcome recorded once, failures kept, and a real worker end to end."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.core.models import Job
from crm.core.services import job_run
from crm.core.tasks import AUDIT_EXPORT, audit_export_task, jobs_requeue_stale_task
from crm.core.tests.sample.models import Gadget


@pytest.mark.django_db
def test_job_runs_once_and_a_redelivered_task_does_not_run_it_again(admin_user):
    job = Job.objects.create(kind="demo", created_by=admin_user)
    calls = []

    def work(*, job, progress):
        progress(50, "half way")
        calls.append(Job.objects.get(pk=job.pk).progress)
        return {"answer": 42}

    finished = job_run(job_id=str(job.pk), work=work)
    assert finished.status == JobStatus.SUCCEEDED and finished.result == {"answer": 42} and finished.progress == 100
    assert calls == [50]
    job_run(job_id=str(job.pk), work=work)  # delivered again after a worker died
    assert calls == [50]


@pytest.mark.django_db
def test_a_job_interrupted_mid_run_is_finished_by_the_next_delivery(admin_user):
    from django.utils import timezone

    from crm.core.services import JOB_LEASE

    long_ago = timezone.now() - JOB_LEASE * 2
    job = Job.objects.create(
        kind="demo", created_by=admin_user, status=JobStatus.RUNNING, attempts=1, heartbeat_at=long_ago
    )
    finished = job_run(job_id=str(job.pk), work=lambda *, job, progress: {"ok": True})
    assert finished.status == JobStatus.SUCCEEDED and finished.attempts == 2


@pytest.mark.django_db
def test_a_job_running_elsewhere_is_not_run_twice(admin_user):
    from django.utils import timezone

    job = Job.objects.create(
        kind="demo", created_by=admin_user, status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    calls = []
    job_run(job_id=str(job.pk), work=lambda *, job, progress: calls.append(1) or {})
    assert calls == [] and Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


@pytest.mark.django_db
def test_a_failing_job_records_its_error(admin_user):
    job = Job.objects.create(kind="demo", created_by=admin_user)

    def work(*, job, progress):
        raise ValueError("the file has no header row")

    failed = job_run(job_id=str(job.pk), work=work)
    assert failed.status == JobStatus.FAILED and "no header row" in failed.error and failed.finished_at


@pytest.mark.django_db
def test_audit_export_escapes_formulas_and_respects_filters(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    Gadget.objects.create(name='=HYPERLINK("http://evil")', owner=admin_user)
    Gadget.objects.create(name="Plain", owner=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("core:audit_log_export"), {"action": "create"})
    job = Job.objects.get(kind=AUDIT_EXPORT)
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED, job.error
    rows = list(csv.reader(io.StringIO(job.result_file.open("rb").read().decode("utf-8-sig"))))
    records = [row[7] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in records and "Plain" in records
    assert {row[4] for row in rows[1:]} == {"Created"}
    download = admin_client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_someone_elses_job_is_not_found(client, admin_user, roles):
    from crm.accounts.tests.factories import UserFactory

    job = Job.objects.create(kind="demo", created_by=admin_user)
    client.force_login(UserFactory(role=roles["sales_rep"]))
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("core:job_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_export_needs_the_export_permission(client, roles):
    from crm.accounts.tests.factories import UserFactory
    from crm.core.testing import make_user

    viewer = make_user(module="audit", actions=("view",))
    client.force_login(viewer)
    assert client.get(reverse("core:audit_log")).status_code == 200
    assert client.post(reverse("core:audit_log_export")).status_code == 403
    client.force_login(UserFactory(role=roles["sales_rep"]))
    assert client.get(reverse("core:audit_log")).status_code == 403


@pytest.mark.django_db
def test_job_whose_broker_was_down_is_queued_again(admin_user, monkeypatch):
    sent = []
    monkeypatch.setattr(audit_export_task, "delay", lambda job_id: sent.append(job_id))
    job = Job.objects.create(kind=AUDIT_EXPORT, created_by=admin_user)
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at.replace(year=job.created_at.year - 1))
    assert jobs_requeue_stale_task() == 1
    assert sent == [str(job.pk)]


@pytest.mark.django_db
def test_progress_fragment_polls_until_finished(admin_client, admin_user):
    job = Job.objects.create(
        kind="demo", created_by=admin_user, status=JobStatus.RUNNING, progress=40, message="Row 400"
    )
    fragment = admin_client.get(reverse("core:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "40%" in fragment and "Row 400" in fragment
    assert "<html" not in fragment
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, progress=100)
    fragment = admin_client.get(reverse("core:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_an_export_started_from_the_page(client, celery_worker_app):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.accounts.tests.factories import UserFactory

    roles_sync_builtin()
    admin = UserFactory(role=Role.objects.get(builtin="administrator"))
    Gadget.objects.create(name="Exported", owner=admin)
    client.force_login(admin)
    response = client.post(reverse("core:audit_log_export"), {})
    job = Job.objects.get(kind=AUDIT_EXPORT)
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)
    assert job.status == JobStatus.SUCCEEDED, (job.status, job.error)
    assert job.result["rows"] >= 2 and job.started_at is not None


@pytest.fixture
def celery_worker_app(tmp_path, settings):
    """A real Celery worker (in a thread) on the real broker: Redis when REDIS_URL is set,
    otherwise the file-system transport of the embedded default."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options")}
    app.conf.task_always_eager = False
    if not settings.REDIS_URL:
        folder = tmp_path / "queue"
        folder.mkdir()
        app.conf.broker_url = "filesystem://"
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(tmp_path / "control"),
        }
    else:
        app.conf.broker_url = settings.REDIS_URL
    _reset_connections(app)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app
    finally:
        for key, value in saved.items():
            app.conf[key] = value
        _reset_connections(app)


def _reset_connections(app):
    """Forget pooled broker connections so the next message goes to the broker now configured."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db
def test_a_job_is_called_by_the_name_its_module_registered_in_the_persons_language(admin_client, admin_user):
    from django.utils import translation

    job = Job.objects.create(kind=AUDIT_EXPORT, created_by=admin_user, status=JobStatus.RUNNING)
    fragment = admin_client.get(reverse("core:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Audit log export" in fragment and AUDIT_EXPORT not in fragment
    assert "Audit log export" in admin_client.get(reverse("core:dashboard")).content.decode()
    admin_user.language = "zh-hans"
    admin_user.save()
    try:
        fragment = admin_client.get(reverse("core:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    finally:
        translation.activate("en")
    assert "审计日志导出" in fragment
    assert Job(kind="not_registered").kind_label == "not_registered"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "finished", "failed"),
    [
        ("en", "Audit log export finished", "Audit log export failed"),
        ("zh-hans", "审计日志导出已完成", "审计日志导出失败"),
    ],
)
def test_the_notification_of_a_finished_job_names_it_in_the_persons_language(admin_user, language, finished, failed):
    from crm.core.models import Notification

    admin_user.language = language
    admin_user.save()
    done = Job.objects.create(kind=AUDIT_EXPORT, created_by=admin_user)
    job_run(job_id=str(done.pk), work=lambda *, job, progress: {})
    broken = Job.objects.create(kind=AUDIT_EXPORT, created_by=admin_user)
    job_run(job_id=str(broken.pk), work=lambda *, job, progress: 1 / 0)
    notes = list(Notification.objects.filter(recipient=admin_user).order_by("id").values_list("title", "body"))
    assert [title for title, _body in notes] == [finished, failed]
    assert AUDIT_EXPORT not in " ".join(f"{title} {body}" for title, body in notes)
