"""Background work of the forecast: the daily computation (``CELERY_BEAT_SCHEDULE``) and the one a
person asks for with Recompute (a job with progress)."""

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

from .scopes import MODULE


@shared_task(name="sales.forecast_compute_task", acks_late=True)
def forecast_compute_task(job_id: str | None = None) -> dict[str, Any] | None:
    """Compute the forecast of every scope. Without a job id (the schedule) it just runs; with one it
    reports its progress to that job."""
    from .services import forecast_compute

    if job_id is None:
        with change_context(source=ChangeSource.TASK):
            return forecast_compute()
    job_run(job_id=job_id, work=_compute_job)
    return None


def _compute_job(*, job: Job, progress: Any) -> dict[str, Any]:
    from .services import forecast_compute

    user = job.created_by
    with translation.override(getattr(user, "language", "") or None):
        if not access.can(user, MODULE, "edit"):
            raise PermissionError(_("You may no longer recompute the forecast."))
        progress(1, _("Reading won deals and the open pipeline"))
        summary = forecast_compute(progress=progress, job=job)
        progress(
            100,
            _("Done: %(scopes)d forecasts in %(seconds).1f s.")
            % {"scopes": summary["scopes"], "seconds": summary["seconds"]},
        )
        return summary
