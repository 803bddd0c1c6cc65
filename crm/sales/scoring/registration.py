"""How lead scoring plugs into the platform (called from SalesConfig.ready): the journal of rules, the
Settings entry, the background jobs and the demo data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register this part of the sales module with the platform."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, platform

    from ..models import ScoringRule
    from . import demo
    from . import tasks as _tasks  # registers the Celery tasks wherever Django starts (worker, beat)
    from .services import RESCORE_JOB, TRAIN_JOB

    journal.register(ScoringRule)
    platform.register_job(TRAIN_JOB, _tasks.scoring_train_task, label=_("Lead scoring training"))
    platform.register_job(RESCORE_JOB, _tasks.scoring_rescore_task, label=_("Lead rescoring"))
    # In the settings section; sales managers set the rules, so it follows the Sales permission (reps
    # may read how their leads are scored).
    item = NavItem(_("Lead scoring"), "sales:lead_scoring", "ti-gauge", "sales", order=940, section="admin")
    if all(existing.url_name != item.url_name for existing in platform.nav):
        platform.nav.append(item)
        platform.nav.sort(key=lambda entry: entry.order)
    platform.register_demo(DemoBuilder("sales-scoring", demo.build, order=60))
