"""Background work of duplicates: the scan, on a schedule (``CELERY_BEAT_SCHEDULE``) and when a person
asks for it (a job with progress)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import translation
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.choices import ChangeSource
from crm.core.context import change_context
from crm.core.models import Job
from crm.core.services import job_run

DUPLICATES_SCAN = "duplicates_scan"


@shared_task(name="customers.duplicates_scan_task", acks_late=True)
def duplicates_scan_task(job_id: str | None = None) -> dict[str, Any] | None:
    """Find likely duplicate pairs across all contacts and companies. Without a job id (the schedule)
    the scan just runs; with one it reports its progress to that job."""
    from .scanning import duplicates_scan

    if job_id is None:
        with change_context(source=ChangeSource.TASK):
            return duplicates_scan()
    job_run(job_id=job_id, work=_scan_job)
    return None


def _scan_job(*, job: Job, progress: Any) -> dict[str, Any]:
    from .scanning import duplicates_scan

    user = job.created_by
    with translation.override(getattr(user, "language", "") or None):
        if not access.can(user, "customers", "edit"):
            raise PermissionError(_("You may no longer edit customers."))
        result = duplicates_scan(progress=progress)
        if result.get("skipped"):
            progress(100, _("Another scan was running; its pairs will be listed when it ends."))
        else:
            found = {"contacts": result["contacts"]["found"], "companies": result["companies"]["found"]}
            progress(100, _("Done: %(contacts)d pairs of contacts, %(companies)d pairs of companies.") % found)
        return result
