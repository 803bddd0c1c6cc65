"""How web forms plug into the platform (called from SalesConfig.ready): the journal, the Settings
entry (an administrator's page, like custom fields) and the demo form."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register pages, journal, search, timeline sources, demo data and tasks with the platform."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, platform

    from ..models import LeadForm
    from . import demo

    # The counter of submissions is bookkeeping (updated without the journal), not a change of the form.
    journal.register(LeadForm, exclude=["submissions"])
    item = NavItem(_("Web forms"), "sales:lead_form_list", "ti-world-www", "accounts", order=940, section="admin")
    if all(existing.url_name != item.url_name for existing in platform.nav):
        platform.nav.append(item)
        platform.nav.sort(key=lambda entry: entry.order)
    platform.register_demo(DemoBuilder("sales-webforms", demo.build, order=55))
