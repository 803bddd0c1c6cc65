"""Background tasks of the platform. Tasks take ids and are queued on commit by services."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access
from .choices import JobStatus
from .models import Job
from .registry import platform
from .security.tasks import audit_seal_task  # noqa: F401  (the worker finds tasks in this module)
from .services import JOB_LEASE, _enqueue, job_run

AUDIT_EXPORT = "audit_export"


@shared_task(name="core.audit_export_task", acks_late=True)
def audit_export_task(job_id: str) -> None:
    job_run(job_id=job_id, work=_audit_export)


def _audit_export(*, job: Job, progress: Any) -> dict[str, Any]:
    from .exports import write_csv
    from .filtersets import JournalEntryFilterSet
    from .selectors import journal_list

    user = job.created_by
    if not access.can(user, "audit", "export"):
        raise PermissionError(_("You may no longer export the audit log."))
    filterset = JournalEntryFilterSet(job.params.get("filters") or {}, queryset=journal_list(user=user))
    entries = filterset.qs.order_by("id") if filterset.is_valid() else journal_list(user=user).none()
    total = entries.count() or 1
    rows = []
    for index, entry in enumerate(entries.select_related("content_type").iterator(chunk_size=2000), start=1):
        rows.append(
            [
                entry.pk,
                entry.timestamp.isoformat(),
                entry.actor_repr,
                entry.get_source_display(),
                entry.get_action_display(),
                entry.content_type.name,
                entry.object_id,
                entry.object_repr,
                json.dumps(entry.changes, ensure_ascii=False),
            ]
        )
        if index % 2000 == 0:
            progress(int(index * 95 / total), _("%(done)d of %(total)d entries") % {"done": index, "total": total})
    header = [
        _("Sequence"),
        _("When (UTC)"),
        _("Who"),
        _("Path"),
        _("Action"),
        _("Record type"),
        _("Record id"),
        _("Record"),
        _("Changes"),
    ]
    content = write_csv(header, rows)
    name = f"audit-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
    if job.result_file:
        job.result_file.delete(save=False)  # a retried run replaces its earlier file
    job.result_file.save(name, ContentFile(content), save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    from .models import JournalEntry
    from .security.audit import record_export

    record_export(
        model=JournalEntry,
        fmt="csv",
        rows=len(rows),
        filters=job.params.get("filters") or {},
        object_id=job.pk,
        label=name,
    )
    return {"rows": len(rows), "file_name": name}


@shared_task(name="core.jobs_requeue_stale_task")
def jobs_requeue_stale_task() -> int:
    """Queue again the jobs that never reached a worker (the broker was down when they were started)
    and those whose worker died mid-run (their lease ran out without a progress report)."""
    now = timezone.now()
    stale = Q(status=JobStatus.PENDING, created_at__lt=now - timedelta(minutes=2)) | Q(
        status=JobStatus.RUNNING, heartbeat_at__lt=now - JOB_LEASE
    )
    count = 0
    for job in Job.objects.filter(stale)[:500]:
        task = platform.jobs.get(job.kind)
        if task is not None:
            _enqueue(task, job.pk)
            count += 1
    return count
