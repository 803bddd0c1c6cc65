"""Every read of products, price books, exchange rates and quotes, already scoped to the user.

Products, price books and exchange rates are the company's, not a person's: whoever may view sales
sees them all (their models are not data-scoped). A quote is seen by whoever may see its deal, and by
its own owner (``Quote.access_via``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length
from django.urls import reverse

from crm.core import access
from crm.core.money import base_currency, format_money
from crm.core.registry import SearchResult
from crm.customers.models import Contact

from ..choices import QuoteStatus
from ..models import Deal, ExchangeRate, PriceBook, PriceBookEntry, Product, Quote, QuoteLine

ADMIN_MODULE = "accounts"


# --- products ---------------------------------------------------------------------------------------------


def product_list(*, user: Any, action: str = "view", query: str = "", active: bool | None = None) -> QuerySet[Product]:
    products = access.scope_queryset(Product.objects.all(), user, action=action)
    query = (query or "").strip()[:100]
    if query:
        products = products.filter(Q(name__icontains=query) | Q(code__icontains=query))
    if active is not None:
        products = products.filter(is_active=active)
    return products.order_by("name", "id")


def product_get(*, user: Any, pk: Any, action: str = "view") -> Product | None:
    return product_list(user=user, action=action).filter(pk=pk).first()


def product_prices(*, product: Product) -> QuerySet[PriceBookEntry]:
    """The product's price in each price book."""
    return product.prices.select_related("price_book").order_by("price_book__currency", "price_book__name")


# --- price books ------------------------------------------------------------------------------------------


def price_book_list(*, user: Any, action: str = "view", currency: str | None = None) -> QuerySet[PriceBook]:
    books = access.scope_queryset(PriceBook.objects.all(), user, action=action)
    if currency:
        books = books.filter(currency=currency)
    return books.order_by("currency", "-is_default", "name", "id")


def price_book_get(*, user: Any, pk: Any, action: str = "view") -> PriceBook | None:
    return price_book_list(user=user, action=action).filter(pk=pk).first()


def price_book_default(*, currency: str) -> PriceBook | None:
    """The active default price book of ``currency`` (or its only active one)."""
    books = PriceBook.objects.filter(currency=currency, is_active=True).order_by("-is_default", "name", "id")
    return books.first()


def price_book_entry_counts(*, book_ids: list[Any]) -> dict[int, int]:
    """Price book id -> how many products it prices (one query for a whole list)."""
    rows = (
        PriceBookEntry.objects.filter(price_book_id__in=book_ids)
        .values("price_book_id")
        .annotate(count=Count("id"))
        .values_list("price_book_id", "count")
    )
    return dict(rows)


def price_book_entries(*, price_book: PriceBook) -> QuerySet[PriceBookEntry]:
    return price_book.entries.select_related("product").order_by("product__name", "product__id")


def price_of(*, price_book: PriceBook | None, product: Product) -> Decimal | None:
    """The product's unit price in ``price_book``; ``None`` when the book has no price for it."""
    if price_book is None:
        return None
    return (
        PriceBookEntry.objects.filter(price_book=price_book, product=product)
        .values_list("unit_price", flat=True)
        .first()
    )


def prices_in(*, price_book: PriceBook | None, product_ids: list[Any]) -> dict[int, Decimal]:
    """Product id -> unit price in ``price_book``, for many products in one query."""
    if price_book is None or not product_ids:
        return {}
    rows = PriceBookEntry.objects.filter(price_book=price_book, product_id__in=product_ids)
    return dict(rows.values_list("product_id", "unit_price"))


# --- exchange rates -----------------------------------------------------------------------------------------


def can_manage_rates(user: Any, action: str = "edit") -> bool:
    """Exchange rates are kept by administrators (the permissions of the settings pages)."""
    return access.can(user, ADMIN_MODULE, action)


def can_view_rates(user: Any) -> bool:
    return access.can(user, "sales", "view") or can_manage_rates(user, "view")


def exchange_rate_list(*, currency: str | None = None) -> QuerySet[ExchangeRate]:
    rates = ExchangeRate.objects.order_by("currency", "-valid_from", "-id")
    return rates.filter(currency=currency) if currency else rates


def exchange_rate_current() -> list[ExchangeRate]:
    """The newest rate of each currency (one row per currency, by code)."""
    newest: dict[str, ExchangeRate] = {}
    for rate in ExchangeRate.objects.order_by("currency", "-valid_from", "-id"):
        newest.setdefault(rate.currency, rate)
    return list(newest.values())


def exchange_rate_currencies() -> list[str]:
    return list(ExchangeRate.objects.order_by("currency").values_list("currency", flat=True).distinct())


def company_currency() -> str:
    return base_currency()


# --- quotes -------------------------------------------------------------------------------------------------


def quote_list(*, user: Any, action: str = "view") -> QuerySet[Quote]:
    return Quote.objects.visible_to(user, action=action).select_related("deal", "contact", "owner")


def quote_get(*, user: Any, pk: Any, action: str = "view") -> Quote | None:
    return quote_list(user=user, action=action).filter(pk=pk).first()


def quote_lines(*, quote: Quote) -> QuerySet[QuoteLine]:
    return quote.lines.select_related("product").order_by("position", "id")


def with_display(quotes: list[Quote]) -> list[Quote]:
    """Set ``total_display`` (the total with its currency, in the current language) on each quote."""
    for quote in quotes:
        quote.total_display = format_money(quote.total, quote.currency)  # type: ignore[attr-defined]
    return quotes


def deal_quotes_panel(*, user: Any, obj: Deal) -> dict[str, Any]:
    """The context of the quotes box on a deal's page."""
    from crm.core import access

    return {"quotes": deal_quotes(user=user, deal=obj), "deal": obj, "can_create": access.can(user, "sales", "create")}


def deal_quotes(*, user: Any, deal: Deal) -> list[Quote]:
    """The quotes of a deal the user may see, newest first, each with ``total_display``."""
    quotes = Quote.objects.visible_to(user).filter(deal=deal).select_related("contact").order_by("-created_at", "-id")
    return with_display(list(quotes))


def deal_accepted_quote(*, deal: Deal, exclude: Quote | None = None) -> Quote | None:
    quotes = Quote.objects.filter(deal=deal, status=QuoteStatus.ACCEPTED)
    if exclude is not None:
        quotes = quotes.exclude(pk=exclude.pk)
    return quotes.first()


def quote_contact_choices(*, user: Any, deal: Deal) -> QuerySet[Contact]:
    """Who a quote of ``deal`` can be addressed to: the deal's contacts and the people of its company,
    among the contacts the user may see."""
    condition = Q(deal_roles__deal=deal)
    if deal.company_id is not None:
        condition |= Q(company_id=deal.company_id)
    ids = Contact.objects.filter(condition).values("pk")
    return Contact.objects.visible_to(user).filter(pk__in=ids).order_by("name", "id")


def last_quote_number(*, prefix: str) -> str | None:
    """The highest number starting with ``prefix`` (longer numbers are higher: 100000 after 99999)."""
    return (
        Quote.objects.filter(number__startswith=prefix)
        .annotate(length=Length("number"))
        .order_by("-length", "-number")
        .values_list("number", flat=True)
        .first()
    )


# --- global search ------------------------------------------------------------------------------------------


def quote_search(*, user: Any, query: str, limit: int) -> list[SearchResult]:
    """Quotes by number (``Q-2026-00042``, or its end, ``42``) or title."""
    text = query.strip()
    condition = Q(number__iendswith=text) | Q(number__iexact=text) | Q(title__icontains=text)
    quotes = quote_list(user=user).filter(condition).order_by("-created_at", "-id")[:limit]
    return [
        SearchResult(
            type_label="quote",
            title=f"{quote.number} · {quote.title or quote.deal.name}",
            subtitle=" · ".join(
                part for part in (quote.get_status_display(), format_money(quote.total, quote.currency)) if part
            ),
            url=reverse("sales:quote_detail", args=[quote.pk]),
            score=3.0 if quote.number.lower() == text.lower() else 1.0,
        )
        for quote in quotes
    ]


def product_search(*, user: Any, query: str, limit: int) -> list[SearchResult]:
    """Products by name or code."""
    text = query.strip()
    products = product_list(user=user, query=text)[:limit]
    return [
        SearchResult(
            type_label="product",
            title=product.name,
            subtitle=" · ".join(part for part in (product.code, product.unit) if part),
            url=f"{reverse('sales:product_list')}?{urlencode({'q': product.code, 'status': 'all'})}",
            score=2.0 if product.code.lower() == text.lower() else 1.0,
        )
        for product in products
    ]
