"""The background job of a lead import. The task takes the job's id and runs through
``crm.core.services.job_run`` (once, with progress); the job's ``params`` say what to import."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.choices import ChangeSource
from crm.core.context import change_context
from crm.core.models import Job
from crm.core.services import job_run

LEAD_IMPORT = "lead_import"


@shared_task(name="sales.lead_import_task", acks_late=True)
def lead_import_task(job_id: str) -> None:
    job_run(job_id=job_id, work=_lead_import)


def _lead_import(*, job: Job, progress: Any) -> dict[str, Any]:
    from crm.customers.io.importing import RejectedRows, map_rows
    from crm.customers.io.reading import FileInfo, ImportFileError, count_rows, open_table

    from .importing import Counts, LeadImporter, run_import

    user = job.created_by
    params = job.params
    path = str(params["path"])
    with translation.override(getattr(user, "language", "") or None), change_context(source=ChangeSource.IMPORT):
        if not access.can(user, "sales", "create"):
            default_storage.delete(path)
            raise PermissionError(_("You may no longer create leads."))
        info = FileInfo.from_params(params.get("file") or {})
        saved = job.result if job.result.get("checkpoint") else {}
        importer = LeadImporter(user=user)
        importer.counts.restore(saved)

        def checkpoint(done: int, counts: Counts) -> None:
            Job.objects.filter(pk=job.pk).update(result={**counts.as_dict(), "done": done, "checkpoint": True})

        try:
            with default_storage.open(path, "rb") as handle:
                progress(1, _("Checking the file…"))
                has_header = bool(params.get("has_header", True))
                total = count_rows(handle, info, has_header=has_header)
                with open_table(handle, info, has_header=has_header) as table:
                    mapping = list(params.get("mapping") or [])
                    if len(mapping) != len(table.header):
                        raise ImportFileError(_("The file's columns changed since it was mapped."))
                    rejected = RejectedRows(table.header)
                    try:
                        counts = run_import(
                            importer=importer,
                            rows=map_rows(table.header, table.rows, mapping),
                            rejected=rejected,
                            total=total,
                            resume_after=int(saved.get("done", 0)),
                            checkpoint=checkpoint,
                            progress=progress,
                        )
                        if rejected.count:
                            rejected.save(job, f"rejected-leads-{timezone.now():%Y%m%d-%H%M%S}.csv")
                    finally:
                        rejected.close()
        except Exception as exc:
            if isinstance(exc, ImportFileError):
                # The rows saved before a damaged part of the file, if any, stay; say so with the counts.
                Job.objects.filter(pk=job.pk).update(result={**importer.counts.as_dict(), "file_error": str(exc)})
            default_storage.delete(path)  # the uploaded file is personal data: keep it no longer than needed
            raise
        default_storage.delete(path)
        return {
            **counts.as_dict(),
            "done": counts.rows,
            "file_name": str(params.get("file_name", "")),
            "rejected_file": bool(rejected.count),
        }
