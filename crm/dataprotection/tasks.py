"""Background work of privacy requests: the export and the erasure (jobs with progress)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.models import Job
from crm.core.services import job_run

from . import erasure, exporting
from .choices import RequestStatus
from .models import PrivacyRequest

PRIVACY_EXPORT = "privacy_export"
PRIVACY_ERASE = "privacy_erase"
RETENTION_APPLY = "retention_apply"


@shared_task(name="dataprotection.privacy_export_task", acks_late=True)
def privacy_export_task(job_id: str) -> None:
    job_run(job_id=job_id, work=_export)


@shared_task(name="dataprotection.privacy_erase_task", acks_late=True)
def privacy_erase_task(job_id: str) -> None:
    job_run(job_id=job_id, work=_erase)


def _request(job: Job) -> PrivacyRequest:
    return PrivacyRequest.objects.get(pk=job.params["request"])


def _failed(request: PrivacyRequest, step: str, exc: Exception) -> None:
    outcome = {**request.outcome, "failed_step": step, "error": f"{type(exc).__name__}: {exc}"[:500]}
    PrivacyRequest.objects.filter(pk=request.pk).update(status=RequestStatus.FAILED, outcome=outcome)


def _export(*, job: Job, progress: Any) -> dict[str, Any]:
    request = _request(job)
    with translation.override(getattr(job.created_by, "language", "") or None):
        try:
            if not access.can(job.created_by, "dataprotection", "export"):
                raise PermissionError(_("You may no longer export personal data."))
            content, counts = exporting.export_bundle(
                kind=request.subject_kind, subject_id=request.subject_id, progress=progress
            )
            name = f"privacy-export-{request.pk}-{timezone.now():%Y%m%d-%H%M%S}.zip"
            if job.result_file:
                job.result_file.delete(save=False)
            job.result_file.save(name, ContentFile(content), save=False)
            Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
        except Exception as exc:
            _failed(request, "export", exc)
            raise
    outcome = {**request.outcome, "counts": counts, "file_name": name}
    outcome.pop("failed_step", None)
    outcome.pop("error", None)
    PrivacyRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.DONE, finished_at=timezone.now(), outcome=outcome
    )
    return {"counts": counts, "file_name": name}


def _erase(*, job: Job, progress: Any) -> dict[str, Any]:
    request = _request(job)
    state = dict(request.state or {})

    def save_state(current: dict[str, Any]) -> None:
        PrivacyRequest.objects.filter(pk=request.pk).update(state=current)

    # Replacement values (names, texts) are written in the site's language, the same for everyone.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            if not access.can(job.created_by, "dataprotection", "edit"):
                raise PermissionError(_("You may no longer handle privacy requests."))
            counts = erasure.erase_subject(
                kind=request.subject_kind,
                subject_id=request.subject_id,
                state=state,
                save_state=save_state,
                progress=progress,
                request=request,
            )
        except Exception as exc:
            _failed(request, erasure.step_reached(state), exc)
            raise
    request.refresh_from_db()
    outcome = {k: v for k, v in request.outcome.items() if k not in {"failed_step", "error"}}
    outcome["counts"] = counts
    PrivacyRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.DONE, finished_at=timezone.now(), outcome=outcome
    )
    return {"counts": counts}


@shared_task(name="dataprotection.retention_apply_job_task", acks_late=True)
def retention_apply_job_task(job_id: str) -> None:
    """One retention rule applied from its page (a job with progress)."""
    from . import retention

    job_run(job_id=job_id, work=retention.retention_job_work)


@shared_task(name="dataprotection.retention_apply_task", acks_late=True)
def retention_apply_task() -> int:
    """Apply every active retention rule (run daily by the beat scheduler); returns the records changed."""
    from . import retention

    return sum(run.changed for run in retention.retention_apply_scheduled())
