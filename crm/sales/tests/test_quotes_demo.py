"""Demo data of the catalogue and quotes: built once, safe to run again, and consistent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.registry import platform
from crm.sales.choices import QuoteStatus
from crm.sales.currency import RateBook
from crm.sales.models import ExchangeRate, PriceBook, Product, Quote
from crm.sales.quotes import demo
from crm.sales.tests.factories import make_deal
from crm.sales.tests.test_quotes_helpers import deal_with_contact, seller

pytestmark = pytest.mark.django_db


def test_demo_builds_a_catalogue_rates_and_quotes_once(roles, settings):
    settings.CRM_CURRENCY = "USD"
    owner = seller()
    for _ in range(4):
        deal_with_contact(owner)
    make_deal(owner=owner, currency="EUR", name="Euro deal")
    assert platform.demo["sales-quotes"].order == 40
    demo.build()
    counts = (Product.objects.count(), PriceBook.objects.count(), ExchangeRate.objects.count(), Quote.objects.count())
    demo.build()
    assert (
        Product.objects.count(),
        PriceBook.objects.count(),
        ExchangeRate.objects.count(),
        Quote.objects.count(),
    ) == counts
    assert counts[0] == len(demo.PRODUCTS) and counts[3] >= 1
    assert set(PriceBook.objects.filter(is_default=True).values_list("currency", flat=True)) == {"USD", "EUR", "CNY"}
    assert set(ExchangeRate.objects.values_list("currency", flat=True)) == {"EUR", "CNY", "GBP", "JPY"}
    assert ExchangeRate.objects.filter(currency="EUR").count() >= 8  # quarterly over two years
    assert Decimal("1.0") < RateBook().rate("EUR") < Decimal("1.2")
    for quote in Quote.objects.prefetch_related("lines"):
        lines = list(quote.lines.all())
        assert lines and quote.total == quote.subtotal - quote.discount_total + quote.tax_total
        assert quote.subtotal - quote.discount_total == sum(line.line_total for line in lines)
        assert quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.DECLINED)
