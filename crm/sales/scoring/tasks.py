"""Background work of lead scoring: training (nightly, ``CELERY_BEAT_SCHEDULE``, and "Train now") and
rescoring every lead (after training and after a change of the rules). With a job id a task reports its
progress to that job; without one (the schedule) it just runs."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import translation
from django.utils.translation import gettext as _

from crm.core.choices import ChangeSource
from crm.core.context import change_context
from crm.core.models import Job
from crm.core.services import job_run


@shared_task(name="sales.scoring_train_task", acks_late=True)
def scoring_train_task(job_id: str | None = None) -> dict[str, Any] | None:
    """Train a model when there is enough history, then score every lead again."""
    if job_id is None:
        with change_context(source=ChangeSource.TASK):
            return _train_and_rescore(progress=None)
    job_run(job_id=job_id, work=_train_job)
    return None


@shared_task(name="sales.scoring_rescore_task", acks_late=True)
def scoring_rescore_task(job_id: str | None = None) -> dict[str, Any] | None:
    """Score every lead again with the active rules and model."""
    from .services import leads_rescore_all

    if job_id is None:
        with change_context(source=ChangeSource.TASK):
            return leads_rescore_all()
    job_run(job_id=job_id, work=_rescore_job)
    return None


def _train_and_rescore(*, progress: Any) -> dict[str, Any]:
    from .services import leads_rescore_all, scoring_model_train

    def training_progress(percent: int, message: str = "") -> None:
        if progress is not None:
            progress(percent // 2, message)

    def rescoring_progress(percent: int, message: str = "") -> None:
        if progress is not None:
            progress(50 + percent // 2, message)

    result = scoring_model_train(progress=training_progress)
    scored = leads_rescore_all(progress=rescoring_progress)
    return {
        "model": result.pk,
        "active": result.is_active,
        "roc_auc": result.roc_auc,
        "message": result.message,
        **scored,
    }


def _check(job: Job) -> None:
    from .services import can_manage

    if not can_manage(job.created_by):
        raise PermissionError(_("You may no longer change lead scoring."))


def _train_job(*, job: Job, progress: Any) -> dict[str, Any]:
    user = job.created_by
    with translation.override(getattr(user, "language", "") or None):
        _check(job)
        result = _train_and_rescore(progress=progress)
        if result["active"]:
            progress(
                100,
                _("Done: a new model (ROC AUC %(auc).2f); %(leads)d leads scored.")
                % {"auc": result["roc_auc"], "leads": result["leads"]},
            )
        else:
            progress(100, _("No new model; %(leads)d leads scored by the rules.") % {"leads": result["leads"]})
        return result


def _rescore_job(*, job: Job, progress: Any) -> dict[str, Any]:
    from .services import leads_rescore_all

    user = job.created_by
    with translation.override(getattr(user, "language", "") or None):
        _check(job)
        result = leads_rescore_all(progress=progress)
        progress(100, _("Done: %(leads)d leads scored, %(changed)d changed.") % result)
        return result
