"""Writes of lead scoring: the manager's rules, the weight of the predicted part, training a model, and
scoring leads (one, or all of them in a background job).

Rules and training are company-wide settings: managing them needs both "edit" and "delete" in Sales
(sales managers and administrators have them; a sales rep, who edits leads but deletes nothing, does
not). Every rule change is journaled (``ScoringRule`` is registered) and names the version it edited;
the scores it changes are recomputed by a background job.

A lead's score, its parts and its reasons are derived values: they are written with a plain update
(no version bump, no journal entry), whoever or whatever caused the rescoring.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.core import access
from crm.core.choices import JobStatus
from crm.core.models import Job
from crm.core.services import ProgressFn, job_start
from crm.core.versioning import save_versioned

from ..choices import ScoringKind
from ..models import Lead, SalesSettings, ScoringModel, ScoringRule
from . import model as predictive
from . import rules as vocabulary
from . import selectors

MODULE = "sales"
TRAIN_JOB = "lead_scoring_train"
RESCORE_JOB = "lead_scoring_rescore"
EDITABLE = ("name", "kind", "field", "operator", "value", "points", "is_active")
SCORE_FIELDS = ("score", "rule_score", "model_score", "score_reasons")
UPDATE_CHUNK = 100  # leads per UPDATE statement when rescoring in bulk (same on every database)
MIN_AUC = 0.55  # a model that tells converted leads from the others no better than this is not used


def can_view(user: Any) -> bool:
    return access.can(user, MODULE, "view")


def can_manage(user: Any) -> bool:
    """May ``user`` set scoring rules, the weight, and train a model?"""
    return access.can(user, MODULE, "edit") and access.can(user, MODULE, "delete")


def _require(actor: Any) -> None:
    if not can_manage(actor):
        raise PermissionDenied(_("Only sales managers and administrators may change lead scoring."))


# --- rules ------------------------------------------------------------------------------------------------


def _validate(rule: ScoringRule) -> None:
    """The rule's own checks, with every problem next to its input."""
    errors: dict[str, list[str]] = {}
    name = rule.name if isinstance(rule.name, str) else ""
    rule.name = " ".join(name.split())
    if not rule.name:
        errors["name"] = [_("Give the rule a name, such as “Works in software”.")]
    elif len(rule.name) > 100:
        errors["name"] = [_("Enter at most %(limit)d characters.") % {"limit": 100}]
    if rule.kind in (None, ""):
        fact = vocabulary.FACTS.get(rule.field) if isinstance(rule.field, str) else None
        rule.kind = fact.kind if fact is not None else ScoringKind.FIT
    if rule.kind not in ScoringKind.values:
        errors["kind"] = [_("Choose fit or engagement.")]
    try:
        rule.field, rule.operator, rule.value = vocabulary.clean_condition(rule.field, rule.operator, rule.value)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    try:
        rule.points = vocabulary.clean_points(rule.points)
    except ValidationError as exc:
        errors.setdefault("points", []).extend(exc.message_dict["points"])
    if not isinstance(rule.is_active, bool):
        errors["is_active"] = [_("Choose yes or no.")]
    if errors:
        raise ValidationError(errors)


def _check_keys(data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: [_("Unknown field: it cannot be set here.")] for name in unknown})


@transaction.atomic
def scoring_rule_create(*, actor: Any, data: dict[str, Any]) -> ScoringRule:
    """Add a rule (``data``: name, kind, field, operator, value, points, is_active); the leads'
    scores are recomputed in the background."""
    _require(actor)
    _check_keys(data)
    rule = ScoringRule(
        name=data.get("name", ""),
        kind=data.get("kind", ""),
        field=data.get("field", ""),
        operator=data.get("operator", ""),
        value=data.get("value", ""),
        points=data.get("points", ""),
        is_active=data.get("is_active", True),
    )
    _validate(rule)
    rule.full_clean()
    rule.save()
    leads_rescore_start(actor=actor)
    return rule


@transaction.atomic
def scoring_rule_update(*, actor: Any, rule: ScoringRule, data: dict[str, Any], version: int | None) -> ScoringRule:
    """Change a rule; ``version`` is the one the editor started from (a stale edit is refused)."""
    _require(actor)
    _check_keys(data)
    before = {name: getattr(rule, name) for name in EDITABLE}
    for name in EDITABLE:
        if name in data:
            setattr(rule, name, data[name])
    _validate(rule)
    changed = [name for name in EDITABLE if getattr(rule, name) != before[name]]
    save_versioned(rule, expected_version=version, update_fields=changed)
    if changed and (rule.is_active or "is_active" in changed):
        leads_rescore_start(actor=actor)
    return rule


@transaction.atomic
def scoring_rule_delete(*, actor: Any, rule: ScoringRule) -> None:
    _require(actor)
    active = rule.is_active
    rule.delete()
    if active:
        leads_rescore_start(actor=actor)


@transaction.atomic
def scoring_weight_set(*, actor: Any, weight: Any) -> SalesSettings:
    """How much of a score comes from the model once one is trained (0-100 %); the rest from rules."""
    _require(actor)
    if isinstance(weight, str) and weight.strip().isdigit():
        weight = int(weight)
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
        raise ValidationError({"weight": _("Enter a whole number from 0 to 100.")})
    settings = SalesSettings.objects.select_for_update().get(pk=SalesSettings.load().pk)
    if settings.scoring_model_weight != weight:
        settings.scoring_model_weight = weight
        settings.save(update_fields=["scoring_model_weight", "updated_at"])  # journaled with the settings
        if selectors.model_active() is not None:
            leads_rescore_start(actor=actor)
    return settings


# --- scoring leads ----------------------------------------------------------------------------------------


@transaction.atomic
def lead_rescore(*, lead: Lead) -> Lead:
    """Score ``lead`` with the active rules and model: sets ``score``, ``rule_score``, ``model_score``
    and ``score_reasons`` (derived values: a plain update, no version bump)."""
    scorer = selectors.scorer_load()
    activities = selectors.lead_activity_count(lead=lead) if scorer.needs_activities and lead.pk else 0
    values = scorer.score(selectors.lead_facts(lead, activities=activities)).as_fields()
    if lead.pk is not None:
        Lead._base_manager.filter(pk=lead.pk).update(**values)
    for name, value in values.items():
        setattr(lead, name, value)
    return lead


def leads_rescore_all(*, progress: ProgressFn | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Score every lead again, in batches of ``batch_size``: two reads per batch and one UPDATE per
    ``UPDATE_CHUNK`` leads whose score changed. Each batch is its own transaction."""
    from django.contrib.contenttypes.models import ContentType

    scorer = selectors.scorer_load()
    ContentType.objects.get_for_model(Lead)  # once, not in every batch
    total = Lead._base_manager.count() if progress is not None else 0
    done = changed = 0
    for rows in selectors.lead_batches(batch_size=batch_size, with_activities=scorer.needs_activities):
        updates = []
        for row in rows:
            values = scorer.score(row["facts"]).as_fields()
            if any(row[name] != values[name] for name in SCORE_FIELDS):
                updates.append(Lead(pk=row["pk"], **values))
        if updates:
            with transaction.atomic():
                Lead._base_manager.bulk_update(updates, SCORE_FIELDS, batch_size=UPDATE_CHUNK)
        done += len(rows)
        changed += len(updates)
        if progress is not None and total:
            progress(
                min(99, int(done * 100 / total)),
                _("%(done)d of %(total)d leads scored") % {"done": done, "total": total},
            )
    return {"leads": done, "changed": changed}


def leads_rescore_start(*, actor: Any) -> Job | None:
    """Queue a rescoring of all leads (after a change of rules or weight); one waiting job is enough."""
    from .tasks import scoring_rescore_task

    _require(actor)
    waiting = Job.objects.filter(kind=RESCORE_JOB, status=JobStatus.PENDING).order_by("-created_at").first()
    if waiting is not None:
        return waiting
    return job_start(kind=RESCORE_JOB, user=actor, task=scoring_rescore_task)


# --- training ---------------------------------------------------------------------------------------------


def history_message(history: predictive.History) -> str:
    return ngettext(
        "Not enough history yet: %(closed)d closed lead (%(converted)d converted), need %(minimum)d with at "
        "least %(per_class)d converted and %(per_class)d not.",
        "Not enough history yet: %(closed)d closed leads (%(converted)d converted), need %(minimum)d with at "
        "least %(per_class)d converted and %(per_class)d not.",
        history.closed,
    ) % {
        "closed": history.closed,
        "converted": history.converted,
        "minimum": predictive.MIN_CLOSED,
        "per_class": predictive.MIN_PER_CLASS,
    }


def weak_message(auc: float) -> str:
    return _(
        "The model could not tell converting leads from the others (ROC AUC %(auc).2f on held-out leads): "
        "leads are scored by the rules only."
    ) % {"auc": auc}


def scoring_model_train(*, progress: ProgressFn | None = None) -> ScoringModel:
    """Train a model on the closed leads, measure it, and make it the only active one.

    With too little history (fewer than 100 closed leads, or fewer than 20 converted or 20 not), or a
    model no better than chance, a row without a model is recorded with a plain message and leads
    are scored by the rules only.
    """

    def report(percent: int, message: str = "") -> None:
        if progress is not None:
            progress(percent, message)

    history = selectors.closed_history()
    if not history.enough:
        with translation.override("en"):
            message = history_message(history)
        return _record(
            message=message,
            parameters={"reason": "history", "closed": history.closed, "converted": history.converted},
            conversion_rate=history.conversion_rate,
        )
    report(5, _("Reading %(count)d closed leads") % {"count": history.closed})
    rows, labels = selectors.training_rows()
    report(30, _("Training on %(count)d closed leads") % {"count": len(rows)})
    trained = predictive.train(rows, labels)
    conversion_rate = sum(labels) / len(labels)
    if trained.roc_auc < MIN_AUC:
        with translation.override("en"):
            message = weak_message(trained.roc_auc)
        return _record(
            message=message,
            parameters={**trained.parameters, "reason": "weak"},
            conversion_rate=conversion_rate,
            roc_auc=trained.roc_auc,
            trained_on=trained.trained_on,
            tested_on=trained.tested_on,
        )
    with transaction.atomic():
        ScoringModel.objects.filter(is_active=True).update(is_active=False)
        return ScoringModel.objects.create(
            is_active=True,
            trained_on=trained.trained_on,
            tested_on=trained.tested_on,
            roc_auc=trained.roc_auc,
            conversion_rate=conversion_rate,
            parameters=trained.parameters,
        )


@transaction.atomic
def _record(*, message: str, parameters: dict[str, Any], conversion_rate: float | None, **fields: Any) -> ScoringModel:
    """Record a training that produced no usable model: leads are scored by the rules only. A repeat of
    the same "not enough history" (the nightly job) refreshes the last row instead of adding one."""
    ScoringModel.objects.filter(is_active=True).update(is_active=False)
    latest = selectors.model_latest()
    if latest is not None and latest.parameters.get("reason") == "history" and parameters.get("reason") == "history":
        ScoringModel.objects.filter(pk=latest.pk).update(
            message=message[:300], parameters=parameters, conversion_rate=conversion_rate, created_at=timezone.now()
        )
        latest.refresh_from_db()
        return latest
    return ScoringModel.objects.create(
        is_active=False, message=message[:300], parameters=parameters, conversion_rate=conversion_rate, **fields
    )


def scoring_model_train_start(*, actor: Any) -> Job:
    """ "Train now": train a model (when there is enough history), then score every lead again."""
    from .tasks import scoring_train_task

    _require(actor)
    return job_start(kind=TRAIN_JOB, user=actor, task=scoring_train_task)
