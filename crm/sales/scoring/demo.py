"""Demo data of lead scoring: a few rules a sales manager would set, a model trained on the demo leads
(when the leads demo made enough history), and every lead scored. Safe to run again."""

from __future__ import annotations

from typing import Any

from ..choices import ScoringKind, ScoringOperator
from ..models import ScoringRule

RULES = (
    ("Senior decision maker", ScoringKind.FIT, "title", ScoringOperator.CONTAINS, "Director", 15),
    ("Target industry", ScoringKind.FIT, "industry", ScoringOperator.IN, "Software, Manufacturing, Finance", 15),
    ("Larger company", ScoringKind.FIT, "company_size", ScoringOperator.IN, "201-1000, 1001-5000, 5000+", 20),
    ("Referred or met at an event", ScoringKind.FIT, "source", ScoringOperator.IN, "referral, event, partner", 15),
    ("Free email address", ScoringKind.FIT, "email", ScoringOperator.CONTAINS, "@gmail.com", -10),
    ("Reachable by phone", ScoringKind.FIT, "phone", ScoringOperator.NOT_EMPTY, "", 10),
    ("Came from a web form", ScoringKind.ENGAGEMENT, "web_form", ScoringOperator.EQUALS, "yes", 10),
    ("Several conversations", ScoringKind.ENGAGEMENT, "activities", ScoringOperator.AT_LEAST, "3", 20),
)


def build(*, stdout: Any = None) -> None:
    from .selectors import model_active
    from .services import leads_rescore_all, scoring_model_train

    if not ScoringRule.objects.exists():
        for name, kind, field, operator, value, points in RULES:
            ScoringRule.objects.create(name=name, kind=kind, field=field, operator=operator, value=value, points=points)
    trained = model_active() or scoring_model_train()
    scored = leads_rescore_all()
    if stdout is not None:
        if trained.is_active:
            stdout.write(f"  model trained on {trained.trained_on} leads, ROC AUC {trained.roc_auc:.2f}")
        else:
            stdout.write(f"  {trained.message}")
        stdout.write(f"  {scored['leads']} leads scored")
