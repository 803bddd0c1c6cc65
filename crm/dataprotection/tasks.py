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


# --- backups (crm.dataprotection.backup) -------------------------------------------------------------------

BACKUP_RUN = "backup_run"
BACKUP_VERIFY = "backup_verify"


class _SideProgress:
    """Job progress during a backup's snapshot: the backup's own connection is inside a read-only
    transaction then, so progress (and the job's lease) is written through a second connection. An
    in-memory database has no second connection: progress waits until the snapshot closes."""

    def __init__(self, job: Job, fallback: Any) -> None:
        from django.db import connection

        self.job_id = job.pk
        self.fallback = fallback
        self.last = 0.0
        self.connection = connection
        name = str(connection.settings_dict.get("NAME", ""))
        in_memory = connection.vendor == "sqlite" and ("memory" in name or name == ":memory:")
        self.side = None if in_memory else connection.copy()  # same alias, a connection of its own

    def _in_transaction(self) -> bool:
        raw = self.connection.connection
        if raw is None:
            return False
        if self.connection.vendor == "sqlite":
            return bool(raw.in_transaction)
        return bool(raw.info.transaction_status)  # psycopg: IDLE is 0

    def __call__(self, percent: int, message: str = "") -> None:
        import time

        now = time.monotonic()
        if now - self.last < 1.0 and percent < 100:
            return
        self.last = now
        if not self._in_transaction():
            self.fallback(percent, message)
        elif self.side is not None:
            side = self.side
            table = side.ops.quote_name(Job._meta.db_table)
            key = self.job_id if side.vendor == "postgresql" else self.job_id.hex
            with side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET progress = %s, message = %s, heartbeat_at = %s WHERE id = %s",  # noqa: S608
                    [
                        max(0, min(100, int(percent))),
                        str(message)[:255],
                        side.ops.adapt_datetimefield_value(timezone.now()),
                        key,
                    ],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _backup(*, job: Job, progress: Any) -> dict[str, Any]:
    from .backup import engine

    if not access.can(job.created_by, "dataprotection", "create"):
        raise PermissionError(_("You may no longer start backups."))
    reporter = _SideProgress(job, progress)
    try:
        row = engine.run_backup(
            requested=job.params.get("kind", "full"), started_by=job.created_by, job=job, progress=reporter
        )
    finally:
        reporter.close()
    return {"backup": row.uid, "kind": row.kind, "size": row.size, "file": row.file_name}


def _verify(*, job: Job, progress: Any) -> dict[str, Any]:
    from .backup import verify

    if not access.can(job.created_by, "dataprotection", "create"):
        raise PermissionError(_("You may no longer verify backups."))
    result = verify.verify_latest(identities=verify.verify_identities(), progress=progress)
    return {k: v for k, v in result.items() if k in {"level", "backups", "rows", "tables", "message"}}


@shared_task(name="dataprotection.backup_run_job_task", acks_late=True)
def backup_run_job_task(job_id: str) -> None:
    """A backup started with "Back up now"."""
    job_run(job_id=job_id, work=_backup)


@shared_task(name="dataprotection.backup_verify_job_task", acks_late=True)
def backup_verify_job_task(job_id: str) -> None:
    """A verification started with "Verify now"."""
    job_run(job_id=job_id, work=_verify)


@shared_task(name="dataprotection.backup_due_task", acks_late=True)
def backup_due_task() -> str:
    """Run the backup the schedule says is due, if any (every few minutes, from the beat scheduler)."""
    import logging

    from crm.core import context
    from crm.core.choices import ChangeSource

    from .backup import engine, schedule

    kind = schedule.due()
    if not kind:
        return ""
    with context.change_context(source=ChangeSource.TASK):
        try:
            row = engine.run_backup(requested=kind)
        except (engine.BackupBusy, engine.BackupRefused) as exc:
            logging.getLogger(__name__).warning("Scheduled backup not made: %s", exc)
            return ""
    return str(row.uid)
