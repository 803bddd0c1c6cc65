"""How pipelines and deals plug into the platform (called from SalesConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, RecordPanel, SearchProvider, platform
    from crm.customers.activities.timeline import TimelineSource, register_source

    from ..models import Competitor, Deal, DealContact, DealProduct, DealStageChange, LossReason, Pipeline, Stage
    from . import demo, panels

    journal.register(Pipeline)
    journal.register(Stage)
    journal.register(Deal, exclude=["rank", "last_activity_at"])
    journal.register(DealContact)
    journal.register(DealProduct)
    journal.register(DealStageChange)
    journal.register(LossReason)
    journal.register(Competitor)
    for item in (
        NavItem(_("Deals"), "sales:deal_list", "ti-briefcase", "sales", order=51),
        NavItem(_("Board"), "sales:board_default", "ti-layout-kanban", "sales", order=52),
        NavItem(_("Sales dashboard"), "sales:dashboard", "ti-chart-pie", "sales", order=56),
        NavItem(_("Win/loss"), "sales:win_loss", "ti-chart-bar", "sales", order=57),
        NavItem(_("Pipelines"), "sales:pipeline_list", "ti-layout-kanban", "accounts", order=940, section="admin"),
    ):
        if all(existing.url_name != item.url_name for existing in platform.nav):
            platform.nav.append(item)
    platform.nav.sort(key=lambda entry: entry.order)
    platform.register_search(SearchProvider("deals", _("Deals"), "sales", panels.deal_search))
    platform.register_panel(
        RecordPanel(
            key="deals",
            template="sales/deals/partials/_customer_deals.html",
            module="sales",
            models=("customers.contact", "customers.company"),
            context=panels.customer_deals_context,
            order=20,
            column="side",
        )
    )
    platform.register_panel(
        RecordPanel(
            key="deal-facts",
            template="sales/deals/partials/_customer_facts.html",
            module="sales",
            models=("customers.contact", "customers.company"),
            context=panels.customer_facts_context,
            order=20,
            column="summary",
        )
    )
    register_source(
        TimelineSource(
            key="deal",
            types=(("deal", _("Deals")),),
            fetch=panels.fetch_stage_changes,
            module="sales",
            order=30,
        )
    )
    platform.register_demo(DemoBuilder("sales-deals", demo.build, order=30))
    _register_personal_data()


def _register_personal_data() -> None:
    """Deals a contact takes part in (or a lead became) are part of what a privacy request exports;
    an erasure keeps them (amounts and dates are the company's figures; the contact is anonymised)."""
    from crm.core import privacy
    from crm.core.privacy import KEEP, PersonalData

    from ..models import Deal

    privacy.register(
        PersonalData("contact", Deal, find=lambda contact: Deal.objects.filter(contacts=contact), erase=KEEP)
    )
    privacy.register(PersonalData("lead", Deal, find=lambda lead: Deal.objects.filter(leads=lead), erase=KEEP))
