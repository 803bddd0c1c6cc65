"""How leads, their assignment and the sales settings plug into the platform (called from SalesConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register pages, journal, search, demo data and tasks with the platform."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, SearchProvider, platform
    from crm.core.saved_views.registry import register_list

    from ..models import AssignmentRule, Lead, SalesSettings
    from . import demo, selectors
    from . import tasks as _tasks  # noqa: F401 - registers the Celery tasks wherever Django starts (worker, beat)
    from .io.tasks import LEAD_IMPORT, lead_import_task

    # The score is recomputed whenever rules or the model change, and "last worked" moves with every
    # call: both are bookkeeping, not edits anyone made. The round-robin cursor likewise.
    journal.register(Lead, exclude=["score", "rule_score", "model_score", "score_reasons", "touched_at"])
    journal.register(AssignmentRule, exclude=["last_assigned"])
    journal.register(SalesSettings)

    platform.register_module(
        platform.modules["sales"],
        nav=[NavItem(_("Leads"), "sales:lead_list", "ti-user-search", "sales", order=50)],
    )
    # The settings pages of administrators (users, teams, roles) are those of the "accounts" module.
    for item in (
        NavItem(
            _("Lead assignment"),
            "sales:assignment_rule_list",
            "ti-arrows-split",
            "accounts",
            order=940,
            section="admin",
        ),
        NavItem(
            _("Sales settings"), "sales:sales_settings", "ti-settings-dollar", "accounts", order=945, section="admin"
        ),
    ):
        if all(existing.url_name != item.url_name for existing in platform.nav):
            platform.nav.append(item)
    platform.nav.sort(key=lambda entry: entry.order)
    platform.register_job(LEAD_IMPORT, lead_import_task)
    platform.register_search(SearchProvider("leads", _("Leads"), "sales", selectors.lead_search))
    platform.register_demo(DemoBuilder("sales-leads", demo.build, order=35))
    register_list(
        "sales.lead",
        url_name="sales:lead_list",
        module="sales",
        label=_("Leads"),
        view="crm.sales.leads.views.LeadListView",
        filterset="crm.sales.leads.filtersets.LeadFilterSet",
        columns=(),
        defaults={"sort": "-created"},
    )
