"""Writes of privacy requests: record one, run its export or erasure as a job (and resume it), close
a correction; and re-apply erasures after a restore."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.models import Job
from crm.core.privacy import privacy
from crm.core.services import job_start

from . import erasure, gathering, selectors
from .choices import RequestKind, RequestStatus
from .models import ErasureRecord, PrivacyRequest

MODULE = selectors.MODULE
NOTES_MAX_LENGTH = 5000


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied(_("You may not handle privacy requests."))


@transaction.atomic
def privacy_request_create(
    *, actor: Any, kind: str, subject_kind: str, subject_id: int, notes: str = ""
) -> PrivacyRequest:
    """Record that a person asked for an export, a correction or an erasure of their data."""
    _require(actor, "create")
    errors: dict[str, list[str]] = {}
    if kind not in RequestKind.values:
        errors["kind"] = [_("Choose export, correct or erase.")]
    obj = gathering.subject_object(subject_kind, subject_id) if subject_kind in privacy.subjects else None
    if obj is None:
        errors["subject"] = [_("Choose the person the request is about.")]
    if len(notes or "") > NOTES_MAX_LENGTH:
        errors["notes"] = [_("Keep the notes under %(limit)d characters.") % {"limit": NOTES_MAX_LENGTH}]
    if errors:
        raise ValidationError(errors)
    request = PrivacyRequest(
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        subject_label=str(obj)[:200],
        requested_by=actor,
        notes=(notes or "").strip(),
    )
    request.full_clean()
    request.save()
    return request


def _job_running(request: PrivacyRequest) -> bool:
    job = request.job
    return job is not None and not job.is_finished


@transaction.atomic
def privacy_request_start(*, actor: Any, request: PrivacyRequest) -> Job:
    """Start (or, after a failure, resume) the request's export or erasure as a background job."""
    from . import tasks

    _require(actor, "export" if request.kind == RequestKind.EXPORT else "edit")
    request = PrivacyRequest.objects.select_for_update(of=("self",)).select_related("job").get(pk=request.pk)
    if request.kind == RequestKind.CORRECT:
        raise ValidationError(_("A correction is made on the person's records; close the request when done."))
    if _job_running(request):
        raise ValidationError(_("This request is already running."))
    if request.kind == RequestKind.ERASE and request.status == RequestStatus.DONE:
        raise ValidationError(_("This person has already been erased."))
    if (
        gathering.subject_object(request.subject_kind, request.subject_id) is None
        and request.kind == RequestKind.EXPORT
    ):
        raise ValidationError(_("The person's record no longer exists."))
    kind, task = (
        (tasks.PRIVACY_EXPORT, tasks.privacy_export_task)
        if request.kind == RequestKind.EXPORT
        else (tasks.PRIVACY_ERASE, tasks.privacy_erase_task)
    )
    job = job_start(kind=kind, user=actor, task=task, params={"request": request.pk})
    request.job = job
    request.status = RequestStatus.RUNNING
    request.handled_by = actor
    request.save(update_fields=["job", "status", "handled_by"])
    return job


@transaction.atomic
def privacy_request_close(*, actor: Any, request: PrivacyRequest, notes: str) -> PrivacyRequest:
    """Close a correction: what was corrected, and the journal entries made since the request came in."""
    _require(actor, "edit")
    request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
    if request.kind != RequestKind.CORRECT:
        raise ValidationError(_("Only a correction is closed by hand."))
    if request.status == RequestStatus.DONE:
        raise ValidationError(_("This request is already closed."))
    notes = (notes or "").strip()
    if not notes:
        raise ValidationError({"notes": [_("Say what was corrected.")]})
    if len(notes) > NOTES_MAX_LENGTH:
        raise ValidationError(
            {"notes": [_("Keep the notes under %(limit)d characters.") % {"limit": NOTES_MAX_LENGTH}]}
        )
    entries = list(selectors.corrections_since(request=request).values_list("pk", flat=True))
    request.outcome = {"corrected": notes, "journal_entries": entries}
    request.status = RequestStatus.DONE
    request.handled_by = actor
    request.finished_at = timezone.now()
    request.full_clean()
    request.save()
    return request


def privacy_request_record_download(*, actor: Any, request: PrivacyRequest) -> None:
    """An export leaves the CRM: the request keeps who downloaded it and when (the audit log's record of
    the export; the journal has no "export" action)."""
    downloads = list(request.outcome.get("downloads", []))
    downloads.append({"by": actor.pk, "who": str(actor), "at": timezone.now().isoformat()})
    outcome = {**request.outcome, "downloads": downloads}
    PrivacyRequest.objects.filter(pk=request.pk).update(outcome=outcome)
    request.outcome = outcome


def reapply_erasures() -> int:
    """Erase again every erased person whose personal data came back (a backup from before the
    erasure was restored) and put their email hashes back on the suppression list. Returns how many
    people were erased again."""
    again = 0
    for record in ErasureRecord.objects.order_by("pk").iterator():
        erasure.suppress_hashes(list(record.email_hashes))
        if record.subject_kind not in privacy.subjects:
            continue
        if not erasure.still_holds_data(record.subject_kind, record.subject_id):
            continue
        state: dict[str, Any] = {"step": "collect"}
        erasure.erase_subject(
            kind=record.subject_kind, subject_id=record.subject_id, state=state, save_state=lambda s: None
        )
        again += 1
    return again
