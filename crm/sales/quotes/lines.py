"""The lines of a quote: checking what was sent line by line (errors keyed ``lines.<n>.<field>``),
pricing products from the quote's price book, the totals, and storing the lines so that unchanged
lines stay untouched (and out of the history)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.core.money import MAX_AMOUNT
from crm.core.querysets import JournaledQuerySet

from ..models import Product, Quote, QuoteLine
from . import checks, pricing, selectors

FIELDS = ("id", "product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
MAX_LINES = 500


def product_of(value: Any) -> Product | None:
    if value in (None, ""):
        return None
    if isinstance(value, Product):
        return value
    product = Product.objects.filter(pk=value).first() if str(value).isdigit() else None
    if product is None:
        raise ValidationError(_("Select a valid choice."))
    return product


def prepare(quote: Quote, lines: Any, errors: checks.Errors) -> list[QuoteLine]:
    """Check ``lines`` (dicts, in order) and return the quote's lines as they must be (existing lines,
    named by ``id``, updated in memory; new ones unsaved), with their amounts computed."""
    if not isinstance(lines, (list, tuple)):
        errors.add("lines", _("Send the lines as a list."))
        return []
    if len(lines) > MAX_LINES:
        errors.add("lines", _("A quote has at most %(limit)d lines.") % {"limit": MAX_LINES})
        return []
    existing = {line.pk: line for line in quote.lines.all()} if quote.pk else {}
    items: list[dict[str, Any]] = [dict(item) if isinstance(item, dict) else {} for item in lines]
    product_ids = []
    for index, item in enumerate(items):
        picked = errors.check(f"lines.{index}.product", product_of, item.get("product"))
        item["product"] = picked
        if picked is not None and item.get("unit_price") in (None, ""):
            product_ids.append(picked.pk)
    book_prices = selectors.prices_in(price_book=quote.price_book, product_ids=product_ids)
    prepared: list[QuoteLine] = []
    seen: set[int] = set()
    for index, (raw, item) in enumerate(zip(lines, items, strict=True)):
        key = f"lines.{index}"
        if not isinstance(raw, dict):
            errors.add(key, _("Send each line as an object."))
            continue
        unknown = sorted(set(item) - set(FIELDS))
        for name in unknown:
            errors.add(f"{key}.{name}", _("Unknown field."))
        line_id = item.get("id")
        line: QuoteLine | None
        if line_id in (None, ""):
            line = QuoteLine(quote=quote)
        else:
            line = existing.get(int(line_id)) if str(line_id).isdigit() else None
            if line is None or line.pk in seen:
                errors.add(f"{key}.id", _("This line is not part of the quote."))
                continue
            seen.add(line.pk)
        if f"{key}.product" in errors.errors:
            continue
        product: Product | None = item["product"]
        if product is not None and not product.is_active and product.pk != line.product_id:
            errors.add(f"{key}.product", _("“%(name)s” is no longer sold.") % {"name": product.name})
        description = errors.check(f"{key}.description", checks.text, item.get("description"), limit=300)
        if not description:
            if product is not None:
                description = product.name
            elif f"{key}.description" not in errors.errors:
                errors.add(f"{key}.description", _("Describe the line, or choose a product."))
        quantity = errors.check(f"{key}.quantity", checks.quantity, item.get("quantity"))
        unit_price: Decimal | None = None
        if item.get("unit_price") not in (None, ""):
            unit_price = errors.check(f"{key}.unit_price", checks.price, item.get("unit_price"))
        elif product is not None:
            unit_price = book_prices.get(product.pk)
            if unit_price is None:
                if quote.price_book is None:
                    errors.add(f"{key}.unit_price", _("Enter a unit price, or choose a price book for the quote."))
                else:
                    errors.add(
                        f"{key}.unit_price",
                        _("“%(product)s” has no price in the price book “%(book)s”: enter a unit price.")
                        % {"product": product.name, "book": quote.price_book.name},
                    )
        else:
            errors.add(f"{key}.unit_price", _("Enter a unit price."))
        discount = errors.check(
            f"{key}.discount_percent", checks.percent, item.get("discount_percent"), kind="discount"
        )
        if item.get("tax_rate") in (None, "") and product is not None:
            tax_rate = product.tax_rate
        else:
            tax_rate = errors.check(f"{key}.tax_rate", checks.percent, item.get("tax_rate"), kind="tax")
        if quantity is None or unit_price is None or discount is None or tax_rate is None or not description:
            continue
        amounts = pricing.line_amounts(
            quantity=quantity,
            unit_price=unit_price,
            discount_percent=discount,
            tax_rate=tax_rate,
            currency=quote.currency,
        )
        if amounts.gross > MAX_AMOUNT:
            errors.add(f"{key}.quantity", _("The amount of this line is too large."))
            continue
        line.product = product
        line.description = description
        line.quantity = quantity
        line.unit_price = unit_price
        line.discount_percent = discount
        line.tax_rate = tax_rate
        line.line_total = amounts.net
        line.position = index
        prepared.append(line)
    return prepared


def amounts(line: QuoteLine, currency: str) -> pricing.LineAmounts:
    return pricing.line_amounts(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
        currency=currency,
    )


def set_totals(quote: Quote, lines: Iterable[QuoteLine], errors: checks.Errors) -> list[str]:
    totals = pricing.quote_totals((amounts(line, quote.currency) for line in lines), quote.currency)
    if totals.subtotal > MAX_AMOUNT or totals.total > MAX_AMOUNT:
        errors.add("lines", _("The quote's total is too large."))
        return []
    changed = []
    for name in ("subtotal", "discount_total", "tax_total", "total"):
        value = getattr(totals, name)
        if getattr(quote, name) != value:
            setattr(quote, name, value)
            changed.append(name)
    return changed


_LINE_VALUES = ("position", "product_id", "description", "quantity", "unit_price", "discount_percent", "tax_rate")


def _check_line(line: QuoteLine) -> None:
    # The values were checked one by one; this is the model's own last word (digits, ranges), without
    # a query per line for its foreign keys and constraints (the database holds those too).
    line.full_clean(exclude=["quote", "product"], validate_unique=False, validate_constraints=False)


def write(quote: Quote, lines: list[QuoteLine]) -> None:
    """Store ``lines`` as the quote's lines: unchanged lines stay as they are, changed ones are
    updated, missing ones deleted, new ones added (each change journaled)."""
    keep = {line.pk for line in lines if line.pk}
    stored = {line.pk: line for line in QuoteLine.objects.filter(quote=quote)}
    gone = [pk for pk in stored if pk not in keep]
    if gone:
        QuoteLine.objects.filter(pk__in=gone).delete()
    new: list[QuoteLine] = []
    for line in lines:
        line.quote = quote
        _check_line(line)
        if line.pk is None:
            new.append(line)
            continue
        before = stored[line.pk]
        fields = [name for name in (*_LINE_VALUES, "line_total") if getattr(before, name) != getattr(line, name)]
        if fields:
            line.save(update_fields=[name.removesuffix("_id") for name in fields])
    if new:
        JournaledQuerySet[QuoteLine](model=QuoteLine).bulk_create(new)
    # A quote read with its lines prefetched shows the lines as they are now.
    getattr(quote, "_prefetched_objects_cache", {}).pop("lines", None)
