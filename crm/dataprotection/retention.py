"""Retention rules: records of a type inactive for a set period are deleted or anonymised.

Record types are the ``RetentionTarget`` declarations modules make in ``crm.core.privacy`` (unconverted
leads, contacts...). A rule names one, a period in months and an action. A dry run counts the records
the rule would reach and lists the first of them; applying it runs as a job (or from the daily
schedule) that works in batches and records a ``RetentionRun``. Deleting goes through the ORM, so each
deletion is journaled (source "task"); anonymising runs the privacy erasure of the person (the
anonymisers every module declared) without putting them on the suppression list.

Applying is idempotent: each batch takes the first records still inactive past the cut-off, and a
record deleted or anonymised no longer is, so a run delivered twice or resumed repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core import access, context
from crm.core.choices import ChangeSource
from crm.core.models import Job
from crm.core.privacy import ANONYMISE, DELETE, RetentionTarget, privacy
from crm.core.services import job_start

from . import erasure
from .choices import RequestStatus, RetentionAction
from .models import RetentionRule, RetentionRun

MODULE = "dataprotection"
BATCH = 200
PREVIEW = 20
MONTHS_MIN = 1
MONTHS_MAX = 600
INACTIVE_SINCE = "retention_inactive_since"

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    return None


# --- reads ---------------------------------------------------------------------------------------------


def retention_targets() -> list[RetentionTarget]:
    """The record types modules offer to retention rules, by label."""
    return sorted(privacy.retention.values(), key=lambda t: str(t.label))


def retention_target(key: str) -> RetentionTarget | None:
    return privacy.retention.get(key)


def retention_rule_list(*, user: Any, action: str = "view") -> QuerySet[RetentionRule]:
    return RetentionRule.objects.visible_to(user, action=action).select_related("created_by")


def retention_rule_get(*, user: Any, pk: int, action: str = "view") -> RetentionRule:
    return retention_rule_list(user=user, action=action).get(pk=pk)


def retention_run_list(*, user: Any) -> QuerySet[RetentionRun]:
    if not access.can(user, MODULE, "view"):
        return RetentionRun.objects.none()
    return RetentionRun.objects.select_related("started_by", "rule", "job").order_by("-started_at", "-id")


def retention_cutoff(*, months: int, now: datetime | None = None) -> datetime:
    """Records last active before this moment are inactive for ``months`` months."""
    return (now or timezone.now()) - relativedelta(months=months)


def retention_inactive_records(*, target: RetentionTarget, cutoff: datetime) -> QuerySet[Any]:
    """The target's records last active before ``cutoff``, by id (unscoped: a rule covers them all)."""
    return (
        target.records()
        .annotate(**{INACTIVE_SINCE: target.inactive_since()})
        .filter(**{f"{INACTIVE_SINCE}__lt": cutoff})
        .order_by("pk")
    )


# --- writes --------------------------------------------------------------------------------------------


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied(_("You may not manage retention rules."))


def _clean(rule: RetentionRule, data: dict[str, Any]) -> None:
    unknown = set(data) - {"record_type", "months", "action", "active"}
    errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in unknown}
    if "record_type" in data:
        rule.record_type = str(data["record_type"] or "").strip()
    if "action" in data:
        rule.action = str(data["action"] or "").strip()
    if "active" in data:
        rule.active = bool(data["active"])
    if "months" in data:
        try:
            rule.months = int(data["months"])
        except (TypeError, ValueError):
            errors["months"] = [_("Enter a whole number of months.")]
    target = retention_target(rule.record_type)
    if target is None:
        errors["record_type"] = [_("Choose one of the record types.")]
    elif RetentionRule.objects.filter(record_type=rule.record_type).exclude(pk=rule.pk).exists():
        errors["record_type"] = [_("This record type has a rule already; edit that one.")]
    if rule.action not in RetentionAction.values:
        errors["action"] = [_("Choose delete or anonymise.")]
    elif target is not None and rule.action not in target.actions:
        errors["action"] = [
            _("%(type)s cannot be %(action)s.")
            % {"type": target.label, "action": RetentionAction(rule.action).label.lower()}
        ]
    if "months" not in errors and not (MONTHS_MIN <= (rule.months or 0) <= MONTHS_MAX):
        errors["months"] = [_("Enter between %(min)d and %(max)d months.") % {"min": MONTHS_MIN, "max": MONTHS_MAX}]
    if errors:
        raise ValidationError(errors)
    rule.full_clean(validate_unique=False)


@transaction.atomic
def retention_rule_create(*, actor: Any, data: dict[str, Any]) -> RetentionRule:
    """A new rule: ``data`` holds record_type, months, action and optionally active."""
    _require(actor, "create")
    rule = RetentionRule(created_by=actor)
    _clean(rule, data)
    rule.save()
    return rule


@transaction.atomic
def retention_rule_update(*, actor: Any, rule: RetentionRule, data: dict[str, Any]) -> RetentionRule:
    """Change a rule's period, action or whether it is active (deactivating keeps it and its log)."""
    _require(actor, "edit")
    rule = RetentionRule.objects.select_for_update().get(pk=rule.pk)
    _clean(rule, data)
    rule.save()
    return rule


def _new_run(rule: RetentionRule, *, actor: Any, dry_run: bool) -> RetentionRun:
    return RetentionRun.objects.create(
        rule=rule,
        record_type=rule.record_type,
        action=rule.action,
        months=rule.months,
        dry_run=dry_run,
        cutoff=retention_cutoff(months=rule.months),
        started_by=actor,
    )


def _target(rule: RetentionRule) -> RetentionTarget:
    target = retention_target(rule.record_type)
    if target is None:
        raise ValidationError({"record_type": [_("Choose one of the record types.")]})
    return target


@transaction.atomic
def retention_rule_dry_run(*, actor: Any, rule: RetentionRule) -> tuple[RetentionRun, list[Any]]:
    """What applying the rule now would reach: the run logged (a dry run: nothing changes) and the
    first ``PREVIEW`` records."""
    _require(actor, "view")
    target = _target(rule)
    run = _new_run(rule, actor=actor, dry_run=True)
    records = retention_inactive_records(target=target, cutoff=run.cutoff)
    run.matched = records.count()
    run.status = RequestStatus.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["matched", "status", "finished_at"])
    return run, list(records[:PREVIEW])


def _running(rule: RetentionRule) -> bool:
    return RetentionRun.objects.filter(rule=rule, dry_run=False, status=RequestStatus.RUNNING).exists()


@transaction.atomic
def retention_rule_apply_start(*, actor: Any, rule: RetentionRule) -> RetentionRun:
    """Apply the rule now, as a background job with progress."""
    from . import tasks

    _require(actor, "delete")
    rule = RetentionRule.objects.select_for_update().get(pk=rule.pk)
    _target(rule)
    if _running(rule):
        raise ValidationError(_("This rule is being applied already."))
    run = _new_run(rule, actor=actor, dry_run=False)
    run.job = job_start(
        kind=tasks.RETENTION_APPLY, user=actor, task=tasks.retention_apply_job_task, params={"run": run.pk}
    )
    run.save(update_fields=["job"])
    return run


def retention_apply_scheduled() -> list[RetentionRun]:
    """Apply every active rule (the daily schedule): one logged run each, started by nobody."""
    runs: list[RetentionRun] = []
    with context.change_context(source=ChangeSource.TASK):
        for rule in RetentionRule.objects.filter(active=True).order_by("record_type"):
            if retention_target(rule.record_type) is None or _running(rule):
                continue
            run = _new_run(rule, actor=None, dry_run=False)
            retention_run_execute(run=run)
            run.refresh_from_db()
            runs.append(run)
    return runs


def retention_run_execute(*, run: RetentionRun, progress: Progress = _no_progress) -> RetentionRun:
    """Delete or anonymise the records of ``run``'s type inactive since before its cut-off, in batches;
    the run's counts follow each batch. A record that cannot be changed (another record protects it)
    is skipped and counted. Runs again safely after an interruption."""
    target = retention_target(run.record_type)
    try:
        if target is None:
            raise LookupError(run.record_type)
        records = retention_inactive_records(target=target, cutoff=run.cutoff)
        remaining = records.count()
        matched = max(run.matched, run.changed + run.skipped + remaining)
        changed, skipped = run.changed, run.skipped
        RetentionRun.objects.filter(pk=run.pk).update(matched=matched)
        last_pk: Any = None
        while True:
            page = records if last_pk is None else records.filter(pk__gt=last_pk)
            batch = list(page.values_list("pk", flat=True)[:BATCH])
            if not batch:
                break
            done, failed = _delete(target, batch) if run.action == DELETE else _anonymise(target, batch)
            changed += done
            skipped += failed
            last_pk = batch[-1]
            RetentionRun.objects.filter(pk=run.pk).update(changed=changed, skipped=skipped)
            progress(
                int(100 * (changed + skipped) / (matched or 1)),
                _("%(done)d of %(total)d records done") % {"done": changed + skipped, "total": matched},
            )
    except Exception as exc:
        RetentionRun.objects.filter(pk=run.pk).update(
            status=RequestStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    RetentionRun.objects.filter(pk=run.pk).update(status=RequestStatus.DONE, finished_at=timezone.now(), error="")
    run.refresh_from_db()
    return run


def _delete(target: RetentionTarget, batch: list[Any]) -> tuple[int, int]:
    """Delete the batch in one transaction; when a record is protected, one by one."""
    manager = target.model._default_manager
    try:
        with transaction.atomic():
            if target.before_delete is not None:
                target.before_delete(batch)
            manager.filter(pk__in=batch).delete()
        return len(batch), 0
    except (ProtectedError, RestrictedError):
        pass
    done = failed = 0
    for pk in batch:
        try:
            with transaction.atomic():
                if target.before_delete is not None:
                    target.before_delete([pk])
                manager.filter(pk=pk).delete()
            done += 1
        except (ProtectedError, RestrictedError):
            failed += 1
    return done, failed


def _anonymise(target: RetentionTarget, batch: list[Any]) -> tuple[int, int]:
    """Anonymise each record with the privacy erasure of its person (collect, erase, journal: no
    suppression), each in its own transaction."""
    if ANONYMISE not in target.actions:
        raise ValueError(target.key)
    done = 0
    # Replacement values (names, texts) are written in the site's language, as a privacy erasure does.
    with translation.override(settings.LANGUAGE_CODE):
        for pk in batch:
            with transaction.atomic():
                erasure.erase_subject(
                    kind=target.subject, subject_id=pk, state={"step": "collect"}, save_state=lambda state: None
                )
            done += 1
    return done, 0


def retention_job_work(*, job: Job, progress: Progress) -> dict[str, Any]:
    """The job's work: the run it applies, if its starter may still apply rules."""
    run = RetentionRun.objects.get(pk=job.params["run"])
    if not access.can(job.created_by, MODULE, "delete"):
        RetentionRun.objects.filter(pk=run.pk).update(status=RequestStatus.FAILED, finished_at=timezone.now())
        raise PermissionError(_("You may no longer apply retention rules."))
    run = retention_run_execute(run=run, progress=progress)
    return {"matched": run.matched, "changed": run.changed, "skipped": run.skipped}
