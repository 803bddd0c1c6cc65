"""Reads of lead scoring: the rules, the models, what the scorer needs, and the facts of leads.

Rules and models are company-wide settings of the sales module (no owner): whoever may view sales may
read them (``core.access`` with the module permission only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet

from crm.core import access
from crm.customers.activities.selectors import related_activities
from crm.customers.models import Activity

from ..choices import LeadStatus
from ..models import Lead, SalesSettings, ScoringModel, ScoringRule
from .model import MIN_CLOSED, Formula, History, describe_feature, lead_values
from .rules import LEAD_FIELDS
from .scorer import RuleSpec, Scorer

# Lead columns the scorer reads (with the primary key and the web form).
FACT_COLUMNS = ("pk", *LEAD_FIELDS, "web_form_id")
SCORE_COLUMNS = ("score", "rule_score", "model_score", "score_reasons")
# The newest closed leads a model learns from; older history adds little and costs memory.
MAX_TRAINING_LEADS = 200_000


# --- rules ------------------------------------------------------------------------------------------------


def rule_list(*, user: Any, action: str = "view") -> QuerySet[ScoringRule]:
    return access.scope_queryset(ScoringRule.objects.all(), user, action=action).order_by("kind", "name", "id")


def rule_get(*, user: Any, pk: Any, action: str = "view") -> ScoringRule | None:
    return rule_list(user=user, action=action).filter(pk=pk).first()


def active_rule_specs() -> list[RuleSpec]:
    rows = ScoringRule.objects.filter(is_active=True).order_by("id")
    return [
        RuleSpec(pk=r.pk, name=r.name, field=r.field, operator=r.operator, value=r.value, points=r.points) for r in rows
    ]


# --- models -----------------------------------------------------------------------------------------------


def model_list(*, user: Any) -> QuerySet[ScoringModel]:
    return access.scope_queryset(ScoringModel.objects.all(), user, action="view").order_by("-created_at", "-id")


def model_active() -> ScoringModel | None:
    """The model that scores leads now (the newest active one), or ``None``: rules only."""
    return ScoringModel.objects.filter(is_active=True).order_by("-created_at", "-id").first()


def model_latest() -> ScoringModel | None:
    """The newest training attempt, whether it produced a model or found too little history."""
    return ScoringModel.objects.order_by("-created_at", "-id").first()


def top_factors(*, model: ScoringModel | None, limit: int = 8) -> list[dict[str, Any]]:
    """The features that weigh most in ``model`` (largest coefficients on scaled values), described for
    a person: ``{"label", "value_label", "coef", "feature"}``."""
    if model is None or not model.parameters:
        return []
    formula = Formula(model.parameters)
    return [{**describe_feature(name), "coef": round(coef, 3)} for name, coef in formula.top_factors(limit)]


def scorer_load() -> Scorer:
    """A scorer with the active rules, the active model and the weight of its part (three queries)."""
    model = model_active()
    weight = SalesSettings.load().scoring_model_weight
    return Scorer(rules=active_rule_specs(), parameters=model.parameters if model else None, weight=weight)


# --- facts of leads ---------------------------------------------------------------------------------------


def lead_activity_count(*, lead: Lead) -> int:
    return related_activities(obj=lead).order_by().count()


def activity_counts(*, first_id: int, last_id: int) -> dict[int, int]:
    """How many activities were logged about each lead with an id from ``first_id`` to ``last_id``
    (one aggregated query on the activities' related-record index)."""
    lead_type = ContentType.objects.get_for_model(Lead)
    rows = (
        Activity.objects.filter(related_type=lead_type, related_id__gte=first_id, related_id__lte=last_id)
        .order_by()
        .values("related_id")
        .annotate(n=Count("id"))
    )
    return {int(row["related_id"] or 0): int(row["n"]) for row in rows}


def lead_facts(lead: Lead | dict[str, Any], *, activities: int = 0) -> dict[str, Any]:
    """What scoring knows of a lead (a model instance or a row of ``FACT_COLUMNS``): its fields, whether
    it came from a web form and how many activities were logged about it."""
    if isinstance(lead, dict):
        facts = {name: lead.get(name) for name in LEAD_FIELDS}
        facts["web_form"] = lead.get("web_form_id") is not None
    else:
        facts = {name: getattr(lead, name) for name in LEAD_FIELDS}
        facts["web_form"] = lead.web_form_id is not None
    facts["activities"] = activities
    return facts


def lead_batches(*, batch_size: int = 1000, with_activities: bool = True) -> Iterable[list[dict[str, Any]]]:
    """Every lead, in batches by id: rows of ``FACT_COLUMNS`` and ``SCORE_COLUMNS`` with ``facts``.

    Two queries per batch (one without the activity counts); the rows are plain values, not model
    instances, so that rescoring a million leads stays light.
    """
    last = 0
    while True:
        rows = list(
            Lead._base_manager.filter(pk__gt=last).order_by("pk").values(*FACT_COLUMNS, *SCORE_COLUMNS)[:batch_size]
        )
        if not rows:
            return
        first_id, last = rows[0]["pk"], rows[-1]["pk"]
        counts = activity_counts(first_id=first_id, last_id=last) if with_activities else {}
        for row in rows:
            row["facts"] = lead_facts(row, activities=counts.get(row["pk"], 0))
        yield rows
        if len(rows) < batch_size:
            return


# --- history to learn from --------------------------------------------------------------------------------


CLOSED = (LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED)


def closed_history() -> History:
    """How many leads are closed (converted or unqualified) and how many of them converted."""
    counts = Lead._base_manager.filter(status__in=CLOSED).aggregate(
        closed=Count("id"), converted=Count("id", filter=Q(status=LeadStatus.CONVERTED))
    )
    return History(closed=counts["closed"] or 0, converted=counts["converted"] or 0)


def training_rows(*, limit: int = MAX_TRAINING_LEADS) -> tuple[list[dict[str, float]], list[int]]:
    """The features of the newest ``limit`` closed leads and whether each converted (1) or not (0)."""
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    closed = Lead._base_manager.filter(status__in=CLOSED).order_by("-id")
    ids = list(closed.values_list("pk", flat=True)[: max(limit, MIN_CLOSED)])
    ids.sort()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        counts = activity_counts(first_id=chunk[0], last_id=chunk[-1])
        batch = Lead._base_manager.filter(pk__gte=chunk[0], pk__lte=chunk[-1], status__in=CLOSED).order_by("pk")
        for row in batch.values(*FACT_COLUMNS, "status"):
            rows.append(lead_values(lead_facts(row, activities=counts.get(row["pk"], 0))))
            labels.append(1 if row["status"] == LeadStatus.CONVERTED else 0)
    return rows, labels
