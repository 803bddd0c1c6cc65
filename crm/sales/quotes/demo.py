"""Demo data of products and quotes: a catalogue of software licences, support plans, services and
hardware; price books in USD, EUR and CNY; two years of exchange rates for EUR, CNY, GBP and JPY; and
quotes (drafts, sent, declined) for some open deals. Safe to run again."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from crm.core.money import base_currency, quantize
from crm.core.querysets import JournaledQuerySet

from ..choices import DealStatus, QuoteStatus
from ..models import Deal, ExchangeRate, PriceBook, PriceBookEntry, Product, Quote, QuoteLine
from . import numbering, pricing

# name, code, unit, description, price in USD
PRODUCTS = [
    ("CRM Professional licence", "LIC-PRO", "user/year", "Annual subscription, per named user.", "480"),
    ("CRM Enterprise licence", "LIC-ENT", "user/year", "Annual subscription with SSO and audit log.", "960"),
    ("Analytics add-on", "ADD-ANA", "user/year", "Dashboards, forecasts and reports.", "180"),
    ("Standard support plan", "SUP-STD", "year", "Business hours, answer within one working day.", "2400"),
    ("Premium support plan (24/7)", "SUP-PRE", "year", "Around the clock, answer within two hours.", "6000"),
    ("Onboarding workshop", "SRV-ONB", "day", "On site or remote, up to 12 people.", "1200"),
    ("Data migration service", "SRV-MIG", "project", "Import from spreadsheets or another CRM.", "3500"),
    ("Consulting", "SRV-CON", "hour", "Process design and configuration.", "150"),
    ("Training course", "SRV-TRN", "attendee", "One-day course for new users.", "350"),
    ("Barcode scanner", "HW-SCN", "piece", "Wireless, with charging cradle.", "249"),
    ("Receipt printer", "HW-PRN", "piece", "Thermal, 80 mm, USB and network.", "329"),
    ("Tablet kiosk", "HW-KSK", "piece", "10-inch tablet with lockable stand.", "899"),
]
# How many US dollars one unit was worth two years ago and today (demo figures, moved in between).
USD_VALUE = {
    "USD": (Decimal("1"), Decimal("1")),
    "EUR": (Decimal("1.0850"), Decimal("1.1050")),
    "CNY": (Decimal("0.1385"), Decimal("0.1395")),
    "GBP": (Decimal("1.2650"), Decimal("1.2950")),
    "JPY": (Decimal("0.006750"), Decimal("0.006550")),
}
BOOKS = [("Standard USD", "USD", True), ("Partner USD", "USD", False), ("Standard EUR", "EUR", True)]
BOOKS += [("标准价格 CNY", "CNY", True)]
TAX = {"USD": Decimal("0"), "EUR": Decimal("19"), "CNY": Decimal("13")}
QUOTED_DEALS = 40


def _price(usd: Decimal, currency: str, partner: bool) -> Decimal:
    value = usd * (Decimal("0.8") if partner else Decimal("1"))
    if currency == "EUR":
        return (value * Decimal("0.92")).quantize(Decimal("1"))
    if currency == "CNY":
        return (value * Decimal("7.2") / 10).quantize(Decimal("1")) * 10
    return value.quantize(Decimal("1"))


def _catalogue() -> tuple[list[Product], dict[str, PriceBook]]:
    products = []
    for name, code, unit, description, _usd in PRODUCTS:
        product, _created = Product.objects.get_or_create(
            code=code, defaults={"name": name, "unit": unit, "description": description}
        )
        products.append(product)
    books: dict[str, PriceBook] = {}
    for name, currency, default in BOOKS:
        book = PriceBook.objects.filter(name=name, currency=currency).first()
        if book is None:
            taken = PriceBook.objects.filter(currency=currency, is_default=True).exists()
            book = PriceBook.objects.create(name=name, currency=currency, is_default=default and not taken)
        if default:
            books.setdefault(currency, book)
        for product, (_n, _c, _u, _d, usd) in zip(products, PRODUCTS, strict=True):
            PriceBookEntry.objects.get_or_create(
                price_book=book,
                product=product,
                defaults={"unit_price": _price(Decimal(usd), currency, partner=name.startswith("Partner"))},
            )
    return products, books


def _rates(today: dt.date) -> None:
    """Quarterly rates over two years, moving evenly from the old value to today's, against the
    company's currency."""
    base = base_currency()
    start = dt.date(today.year - 2, ((today.month - 1) // 3) * 3 + 1, 1)
    days = []
    day = start
    while day <= today:
        days.append(day)
        month = day.month + 3
        day = dt.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    base_then, base_now = USD_VALUE.get(base, (Decimal(1), Decimal(1)))
    for currency in ("EUR", "CNY", "GBP", "JPY", "USD"):
        if currency == base:
            continue
        then, now = USD_VALUE[currency]
        for index, day in enumerate(days):
            share = Decimal(index) / Decimal(max(len(days) - 1, 1))
            usd = then + (now - then) * share
            base_usd = base_then + (base_now - base_then) * share
            rate = (usd / base_usd).quantize(Decimal("0.00000001"))
            ExchangeRate.objects.get_or_create(currency=currency, valid_from=day, defaults={"rate": rate})


def _quotes(products: list[Product], books: dict[str, PriceBook], rng: random.Random) -> int:
    if Quote.objects.exists():
        return 0
    deals = list(
        Deal.objects.filter(status=DealStatus.OPEN)
        .select_related("company")
        .prefetch_related("contact_roles__contact")
        .order_by("id")[: QUOTED_DEALS * 3]
    )
    made = 0
    for deal in deals[::3][:QUOTED_DEALS]:
        currency = deal.currency if deal.currency in books else "USD"
        book = books.get(currency)
        if book is None:
            continue
        prices = dict(PriceBookEntry.objects.filter(price_book=book).values_list("product_id", "unit_price"))
        roles = list(deal.contact_roles.all())
        contact = roles[0].contact if roles else (deal.company.contacts.first() if deal.company else None)
        created = timezone.now() - dt.timedelta(days=rng.randrange(1, 60))
        status = rng.choice([QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.SENT, QuoteStatus.DECLINED])
        quote = Quote(
            deal=deal,
            contact=contact,
            owner=deal.owner,
            team=deal.team,
            title=deal.name,
            currency=currency,
            price_book=book,
            valid_until=timezone.localdate(created) + dt.timedelta(days=30),
            terms="Payment within 30 days of invoice. Prices exclude shipping.",
            status=status if contact is not None or status == QuoteStatus.DRAFT else QuoteStatus.DRAFT,
            sent_at=created + dt.timedelta(days=1) if status != QuoteStatus.DRAFT and contact is not None else None,
        )
        lines = []
        for position, product in enumerate(rng.sample(products, rng.randint(1, 4))):
            quantity = Decimal(rng.choice([1, 1, 2, 5, 10, 25]))
            discount = Decimal(rng.choice([0, 0, 0, 5, 10, 15]))
            tax = TAX.get(currency, Decimal(0))
            amounts = pricing.line_amounts(
                quantity=quantity,
                unit_price=prices[product.pk],
                discount_percent=discount,
                tax_rate=tax,
                currency=currency,
            )
            lines.append(
                QuoteLine(
                    position=position,
                    product=product,
                    description=product.name,
                    quantity=quantity,
                    unit_price=prices[product.pk],
                    discount_percent=discount,
                    tax_rate=tax,
                    line_total=amounts.net,
                )
            )
        totals = pricing.quote_totals(
            (
                pricing.line_amounts(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount_percent=line.discount_percent,
                    tax_rate=line.tax_rate,
                    currency=currency,
                )
                for line in lines
            ),
            currency,
        )
        quote.subtotal = quantize(totals.subtotal, currency)
        quote.discount_total, quote.tax_total, quote.total = totals.discount_total, totals.tax_total, totals.total
        with transaction.atomic():
            numbering.insert_numbered(quote)
            Quote.objects.filter(pk=quote.pk).update(created_at=created)
            for line in lines:
                line.quote = quote
            JournaledQuerySet[QuoteLine](model=QuoteLine).bulk_create(lines)
        made += 1
    return made


def build(*, stdout: Any = None) -> None:
    rng = random.Random(4040)
    products, books = _catalogue()
    _rates(timezone.localdate())
    made = _quotes(products, books, rng)
    if stdout is not None and made:
        stdout.write(f"  {len(products)} products, {made} quotes")
