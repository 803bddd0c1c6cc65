"""A worker killed in the middle of a job: the job runs again and its effect happens once.

Real processes: two Celery workers one after the other, on the embedded default's file-system
broker and a SQLite database file of their own, the first one killed with SIGKILL mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.worker

SETUP = """
from config.celery import app
from crm.accounts.tests.factories import UserFactory
from crm.core.models import Job
user = UserFactory(username="worker-test")
job = Job.objects.create(kind="sample_slow", created_by=user, params={{"marker": {marker!r}}})
app.send_task("sample.slow_job_task", args=[str(job.pk)])
print(job.pk)
"""

STATE = """
from crm.core.models import Job
from crm.core.tests.sample.models import Gadget
job = Job.objects.get()
print(job.status, job.attempts, Gadget.objects.filter(name=f"job-{job.pk}").count())
"""

EXPIRE_LEASE_AND_SWEEP = """
from django.utils import timezone
from crm.core.models import Job
from crm.core.services import JOB_LEASE
from crm.core.tasks import jobs_requeue_stale_task
Job.objects.update(heartbeat_at=timezone.now() - 2 * JOB_LEASE)
print(jobs_requeue_stale_task())
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.test_settings",
        CRM_LOCAL_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'crm.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    return env


def _shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_job_survives_a_killed_worker_and_happens_once(tmp_path):
    env = _env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    marker = tmp_path / "first-run-started"
    _shell(env, SETUP.format(marker=str(marker)))
    log = tmp_path / "worker.log"

    first = _worker(env, log)
    try:
        assert _wait(marker.exists, 60), log.read_text()
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-job, without any clean-up
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert _shell(env, STATE) == "running 1 0"

    # Later, the periodic sweep finds the job's lease expired and queues it again.
    assert _shell(env, EXPIRE_LEASE_AND_SWEEP) == "1"
    second = _worker(env, log)
    try:
        assert _wait(lambda: _shell(env, STATE).startswith("succeeded"), 90), log.read_text()
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    assert _shell(env, STATE) == "succeeded 2 1"
