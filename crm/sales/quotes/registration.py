"""How products, price books, exchange rates and quotes plug into the platform (called from
SalesConfig.ready): the journal, the navigation (Products, Quotes, and Settings → Exchange rates),
global search and the demo data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register pages, journal, search, timeline sources, demo data and tasks with the platform."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, RecordPanel, SearchProvider, platform

    from ..models import ExchangeRate, PriceBook, PriceBookEntry, Product, Quote, QuoteLine
    from . import demo, selectors

    journal.register(Product)
    journal.register(PriceBook)
    journal.register(PriceBookEntry)  # a price: product and unit price, under its price book
    journal.register(ExchangeRate)
    journal.register(Quote)
    journal.register(QuoteLine)  # lines have no version of their own: the quote's version covers them

    items = [
        NavItem(_("Products"), "sales:product_list", "ti-package", "sales", order=54),
        NavItem(_("Quotes"), "sales:quote_list", "ti-file-invoice", "sales", order=53),
        # Administrators keep the rates, beside the other settings pages (module "accounts").
        NavItem(_("Exchange rates"), "sales:exchange_rate_list", "ti-currency", "accounts", order=940, section="admin"),
    ]
    for item in items:
        if all(existing.url_name != item.url_name for existing in platform.nav):
            platform.nav.append(item)
    platform.nav.sort(key=lambda entry: entry.order)
    platform.register_search(SearchProvider("quotes", _("Quotes"), "sales", selectors.quote_search))
    platform.register_search(SearchProvider("products", _("Products"), "sales", selectors.product_search))
    platform.register_demo(DemoBuilder("sales-quotes", demo.build, order=40))
    platform.register_panel(
        RecordPanel(
            key="deal-quotes",
            template="sales/quotes/_deal_quotes.html",
            module="sales",
            models=("sales.deal",),
            context=selectors.deal_quotes_panel,
            order=10,
        )
    )
    _register_personal_data()


def _register_personal_data() -> None:
    """Quotes addressed to a contact are exported with their data; an erasure keeps them (the contact
    they name is anonymised)."""
    from crm.core import privacy
    from crm.core.privacy import KEEP, PersonalData

    from ..models import Quote

    privacy.register(
        PersonalData("contact", Quote, find=lambda contact: Quote.objects.filter(contact=contact), erase=KEEP)
    )
