"""Background jobs of import and export. Each task takes the job's id and runs through
``crm.core.services.job_run`` (once, with progress); the job's ``params`` say what to do."""

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

CONTACT_IMPORT = "contact_import"
CONTACT_VCARD_IMPORT = "contact_vcard_import"
CONTACT_EXPORT = "contact_export"
COMPANY_EXPORT = "company_export"
IMPORT_KINDS = (CONTACT_IMPORT, CONTACT_VCARD_IMPORT)
EXPORT_KINDS = (CONTACT_EXPORT, COMPANY_EXPORT)


def _language(user: Any) -> str | None:
    return getattr(user, "language", "") or None


@shared_task(name="customers.contact_import_task", acks_late=True)
def contact_import_task(job_id: str) -> None:
    job_run(job_id=job_id, work=_contact_import)


@shared_task(name="customers.customer_export_task", acks_late=True)
def customer_export_task(job_id: str) -> None:
    job_run(job_id=job_id, work=_export)


def _contact_import(*, job: Job, progress: Any) -> dict[str, Any]:
    from .importing import ContactImporter, Counts, RejectedRows, map_rows, run_import
    from .reading import FileInfo, ImportFileError, count_rows, open_table
    from .vcards import card_rows, count_cards

    user = job.created_by
    params = job.params
    path = str(params["path"])
    with translation.override(_language(user)), change_context(source=ChangeSource.IMPORT):
        if not access.can(user, "customers", "create"):
            raise PermissionError(_("You may no longer create contacts."))
        info = FileInfo.from_params(params.get("file") or {})
        saved = job.result if job.result.get("checkpoint") else {}
        importer = ContactImporter(user=user, duplicates=str(params.get("duplicates", "skip")))
        for name in ("created", "updated", "unchanged", "skipped", "companies_created"):
            setattr(importer.counts, name, int(saved.get(name, 0)))

        def checkpoint(done: int, counts: Counts) -> None:
            Job.objects.filter(pk=job.pk).update(result={**counts.as_dict(), "done": done, "checkpoint": True})

        try:
            with default_storage.open(path, "rb") as handle:
                progress(1, _("Checking the file…"))
                if info.kind == "vcard":
                    total = count_cards(handle, info)
                    header = [_("Name"), _("Email"), _("Mobile")]
                    rejected = RejectedRows(header, number_label=_("Card"))
                    rows = card_rows(handle, info)
                    counts = run_import(
                        importer=importer,
                        rows=rows,
                        rejected=rejected,
                        total=total,
                        resume_after=int(saved.get("done", 0)),
                        checkpoint=checkpoint,
                        progress=progress,
                    )
                else:
                    has_header = bool(params.get("has_header", True))
                    total = count_rows(handle, info, has_header=has_header)
                    with open_table(handle, info, has_header=has_header) as table:
                        mapping = list(params.get("mapping") or [])
                        if len(mapping) != len(table.header):
                            raise ImportFileError(_("The file's columns changed since it was mapped."))
                        rejected = RejectedRows(table.header)
                        counts = run_import(
                            importer=importer,
                            rows=map_rows(table.header, table.rows, mapping),
                            rejected=rejected,
                            total=total,
                            resume_after=int(saved.get("done", 0)),
                            checkpoint=checkpoint,
                            progress=progress,
                        )
        except Exception as exc:
            if isinstance(exc, ImportFileError):
                counts_so_far = importer.counts.as_dict()  # rows saved before the damaged part, if any
                Job.objects.filter(pk=job.pk).update(result={**counts_so_far, "file_error": str(exc)})
            default_storage.delete(path)  # the uploaded file is personal data: keep it no longer than needed
            raise
        # Deleted only once the job has an outcome: a worker that dies leaves it for the next delivery.
        default_storage.delete(path)
        result: dict[str, Any] = {
            **counts.as_dict(),
            "done": counts.rows,
            "file_name": str(params.get("file_name", "")),
            "duplicates": importer.duplicates,
            "rejected_file": bool(rejected.count),
        }
        try:
            if rejected.count:
                rejected.save(job, f"rejected-rows-{timezone.now():%Y%m%d-%H%M%S}.csv")
        finally:
            rejected.close()
        return result


def _export(*, job: Job, progress: Any) -> dict[str, Any]:
    from .exporting import ExportSpec, run_export

    user = job.created_by
    with translation.override(_language(user)):
        if not access.can(user, "customers", "export"):
            raise PermissionError(_("You may no longer export customer data."))
        spec = ExportSpec(
            model=str(job.params.get("model", "contacts")),
            fmt=str(job.params.get("format", "csv")),
            filters=dict(job.params.get("filters") or {}),
        )
        result = run_export(job=job, user=user, spec=spec, progress=progress)
    from crm.core.security.audit import record_export

    from ..models import Company, Contact

    record_export(
        model=Contact if spec.model == "contacts" else Company,
        fmt=spec.fmt,
        rows=int(result.get("rows", 0)),
        filters=spec.filters,
        object_id=job.pk,
        label=str(result.get("file_name", "")),
    )
    return result


@shared_task(name="customers.import_uploads_sweep_task")
def import_uploads_sweep_task(max_age_hours: int = 24) -> int:
    """Delete uploaded files that were never imported (the person left the mapping page), once they
    are older than ``max_age_hours``; files of waiting or running jobs are kept, whatever module's
    import they are (a job names its file in ``params["path"]``). The count deleted."""
    from datetime import timedelta

    from crm.core.choices import JobStatus

    storage = default_storage
    cutoff = timezone.now() - timedelta(hours=max_age_hours)
    in_use = {
        str(params.get("path", ""))
        for params in Job.objects.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING]).values_list(
            "params", flat=True
        )
        if isinstance(params, dict)
    }
    deleted = 0
    try:
        folders, _files = storage.listdir("imports")
    except (FileNotFoundError, NotImplementedError):
        return 0
    for folder in folders[:10_000]:
        _dirs, names = storage.listdir(f"imports/{folder}")
        for name in names:
            path = f"imports/{folder}/{name}"
            if path not in in_use and storage.get_modified_time(path) < cutoff:
                storage.delete(path)
                deleted += 1
    return deleted
