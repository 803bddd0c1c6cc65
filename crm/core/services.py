"""Writes of the platform: background jobs and notifications."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import context
from .choices import ChangeSource, JobStatus
from .models import Job, Notification

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, str], None]


def job_start(*, kind: str, user: Any, task: Any, params: dict[str, Any] | None = None) -> Job:
    """Record a job and queue ``task(job_id)`` once the surrounding transaction commits.

    The Job row is the durable record: if the broker is unreachable at commit time the job stays
    pending and ``jobs_requeue_stale_task`` queues it again later, so nothing acknowledged is lost.
    """
    job = Job.objects.create(kind=kind, created_by=user, params=params or {})
    transaction.on_commit(lambda: _enqueue(task, job.pk))
    return job


def _enqueue(task: Any, job_id: Any) -> None:
    try:
        task.delay(str(job_id))
    except Exception:  # broker down: the periodic sweep queues it again
        logger.exception("Could not queue job %s; it will be retried by the sweep.", job_id)


JOB_LEASE = timedelta(minutes=5)


def job_run(*, job_id: str, work: Callable[..., dict[str, Any]]) -> Job | None:
    """Run ``work(job=, progress=)`` for a job, once: a finished job is not run again.

    Tasks are delivered at least once (a worker killed mid-task gets its task again, from the
    broker or from ``jobs_requeue_stale_task``), so ``work`` must be idempotent. A run claims the
    job with a lease that its progress reports renew; a second delivery while the lease is fresh
    does nothing, so two workers never run the same job at once.
    """
    now = timezone.now()
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - JOB_LEASE)
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    job = Job.objects.filter(pk=job_id).select_related("created_by").first()
    if job is None or not claimed:
        return job

    def progress(percent: int, message: str = "") -> None:
        Job.objects.filter(pk=job.pk).update(
            progress=max(0, min(100, int(percent))), message=str(message)[:255], heartbeat_at=timezone.now()
        )

    with context.change_context(actor=job.created_by, source=ChangeSource.TASK):
        try:
            result = work(job=job, progress=progress) or {}
        except Exception as exc:
            logger.exception("Job %s (%s) failed", job.pk, job.kind)
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                message="",
                finished_at=timezone.now(),
            )
            logger.debug("%s", traceback.format_exc())
            job.refresh_from_db()
            _notify_finished(job)
            return job
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, progress=100, result=result, finished_at=timezone.now()
    )
    job.refresh_from_db()
    _notify_finished(job)
    return job


def _notify_finished(job: Job) -> None:
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _

    with translation.override(getattr(job.created_by, "language", "") or None):
        what = {"job": job.kind_label}
        title = _("%(job)s finished") % what if job.status == JobStatus.SUCCEEDED else _("%(job)s failed") % what
        body = "" if job.status == JobStatus.SUCCEEDED else _("Open the job to see what went wrong.")
        notification_create(
            recipient=job.created_by, title=title, body=body, url=reverse("core:job_detail", args=[job.pk])
        )


def notification_create(*, recipient: Any, title: str, body: str = "", url: str = "") -> Notification:
    return Notification.objects.create(recipient=recipient, title=title[:200], body=body, url=url[:500])


def notification_mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, all) of the user's notifications as read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
