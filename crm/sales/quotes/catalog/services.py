"""Writes of the catalogue: products, price books with their prices, and exchange rates.

Products and price books follow the sales permissions (create, edit, delete); exchange rates are kept
by administrators (the permissions of the settings pages, module ``accounts``). Every write is one
transaction, checked field by field (bad input changes nothing), and journaled (the models are
registered in ``registration.register``); edits of products and price books name the version they
started from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.money import base_currency, validate_currency
from crm.core.versioning import save_versioned

from ...models import ExchangeRate, PriceBook, PriceBookEntry, Product, Quote
from .. import checks, selectors

MODULE = "sales"
PRODUCT_FIELDS = ("name", "code", "description", "unit", "tax_rate", "is_active")
PRICE_BOOK_FIELDS = ("name", "currency", "is_default", "is_active")
MAX_ENTRIES = 5000


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


def _unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})


# --- products ---------------------------------------------------------------------------------------------


def _apply_product(product: Product, data: dict[str, Any]) -> list[str]:
    _unknown(data, PRODUCT_FIELDS)
    errors = checks.Errors()
    changed: list[str] = []
    cleaners: dict[str, Any] = {
        "name": lambda v: checks.text(v, limit=200, required=True),
        "code": lambda v: checks.text(v, limit=50, required=True),
        "description": lambda v: checks.text(v, single_line=False),
        "unit": lambda v: checks.text(v, limit=30),
        "tax_rate": lambda v: checks.percent(v, kind="tax"),
        "is_active": checks.boolean,
    }
    creating = product._state.adding
    for name, clean in cleaners.items():
        if name not in data and not (creating and name in ("name", "code")):
            continue
        value = errors.check(name, clean, data.get(name))
        if name not in errors.errors and value != getattr(product, name):
            setattr(product, name, value)
            changed.append(name)
    if "code" not in errors.errors and product.code:
        taken = Product.objects.filter(code__iexact=product.code)
        if product.pk:
            taken = taken.exclude(pk=product.pk)
        if taken.exists():
            errors.add("code", _("Another product has the code “%(code)s”.") % {"code": product.code})
    errors.raise_if_any()
    return changed


def _save_unique(save: Any, product: Product) -> Any:
    """Run ``save``; a code taken meanwhile by another request is reported like any taken code."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError:
        if Product.objects.filter(code=product.code).exclude(pk=product.pk).exists():
            raise ValidationError(
                {"code": _("Another product has the code “%(code)s”.") % {"code": product.code}}
            ) from None
        raise


@transaction.atomic
def product_create(*, actor: Any, data: dict[str, Any]) -> Product:
    _require(actor, "create")
    product = Product()
    _apply_product(product, dict(data))
    product.full_clean(validate_unique=False)
    _save_unique(product.save, product)
    return product


@transaction.atomic
def product_update(*, actor: Any, product: Product, data: dict[str, Any], version: int | None) -> Product:
    _require(actor, "edit")
    fields = _apply_product(product, dict(data))
    _save_unique(lambda: save_versioned(product, expected_version=version, update_fields=fields), product)
    return product


@transaction.atomic
def product_set_active(*, actor: Any, product: Product, active: bool, version: int | None = None) -> Product:
    """Deactivate (no longer offered on new quote lines; existing quotes keep it) or reactivate."""
    return product_update(actor=actor, product=product, data={"is_active": active}, version=version)


@transaction.atomic
def product_delete(*, actor: Any, product: Product) -> None:
    _require(actor, "delete")
    try:
        product.delete()
    except ProtectedError:
        raise ValidationError(
            _("“%(name)s” is on quotes or deals: deactivate it instead, so that they keep it.") % {"name": product.name}
        ) from None


# --- price books --------------------------------------------------------------------------------------------


def _apply_price_book(book: PriceBook, data: dict[str, Any]) -> list[str]:
    _unknown(data, (*PRICE_BOOK_FIELDS, "entries"))
    errors = checks.Errors()
    changed: list[str] = []
    cleaners: dict[str, Any] = {
        "name": lambda v: checks.text(v, limit=100, required=True),
        "currency": validate_currency,
        "is_default": checks.boolean,
        "is_active": checks.boolean,
    }
    creating = book._state.adding
    for name, clean in cleaners.items():
        if name not in data and not (creating and name in ("name", "currency")):
            continue
        value = errors.check(name, clean, data.get(name))
        if name not in errors.errors and value != getattr(book, name):
            setattr(book, name, value)
            changed.append(name)
    if "currency" in changed and not creating and Quote.objects.filter(price_book=book).exists():
        errors.add("currency", _("Quotes use this price book: its currency cannot change."))
    if book.is_default and not book.is_active:
        if data.get("is_default") is True:
            errors.add("is_default", _("An inactive price book cannot be the default."))
        else:  # deactivating the default: its currency has no default until another is chosen
            book.is_default = False
            changed.append("is_default")
    errors.raise_if_any()
    return changed


def _take_default(book: PriceBook) -> None:
    """Make ``book`` the only default of its currency (the other one stops being it, journaled)."""
    if not book.is_default:
        return
    others = PriceBook.objects.filter(currency=book.currency, is_default=True)
    if book.pk:
        others = others.exclude(pk=book.pk)
    for other in others.select_for_update():
        other.is_default = False
        save_versioned(other, expected_version=None, update_fields=["is_default"])


@transaction.atomic
def price_book_create(*, actor: Any, data: dict[str, Any]) -> PriceBook:
    _require(actor, "create")
    data = dict(data)
    entries = data.pop("entries", None)
    book = PriceBook()
    _apply_price_book(book, data)
    if not PriceBook.objects.filter(currency=book.currency, is_default=True).exists() and book.is_active:
        book.is_default = True  # the first price book of a currency is its default
    _take_default(book)
    book.full_clean()
    book.save()
    if entries is not None:
        price_book_set_entries(actor=actor, price_book=book, entries=entries)
    return book


@transaction.atomic
def price_book_update(*, actor: Any, price_book: PriceBook, data: dict[str, Any], version: int | None) -> PriceBook:
    _require(actor, "edit")
    data = dict(data)
    entries = data.pop("entries", None)
    fields = _apply_price_book(price_book, data)
    _take_default(price_book)
    save_versioned(price_book, expected_version=version, update_fields=fields)
    if entries is not None:
        price_book_set_entries(actor=actor, price_book=price_book, entries=entries)
    return price_book


@transaction.atomic
def price_book_delete(*, actor: Any, price_book: PriceBook) -> None:
    _require(actor, "delete")
    try:
        price_book.delete()
    except ProtectedError:
        raise ValidationError(
            _("Quotes use the price book “%(name)s”: deactivate it instead.") % {"name": price_book.name}
        ) from None


def _check_product(product: Any) -> Product:
    if not isinstance(product, Product):
        product = Product.objects.filter(pk=product).first() if str(product or "").isdigit() else None
    if product is None:
        raise ValidationError(_("Select a valid choice."))
    return product


@transaction.atomic
def price_book_set_price(*, actor: Any, price_book: PriceBook, product: Any, unit_price: Any) -> PriceBookEntry:
    """Set the price of ``product`` in ``price_book`` (added when it had none)."""
    _require(actor, "edit")
    errors = checks.Errors()
    product = errors.check("product", _check_product, product)
    amount = errors.check("unit_price", checks.price, unit_price)
    errors.raise_if_any()
    entry = PriceBookEntry.objects.filter(price_book=price_book, product=product).first()
    if entry is None:
        entry = PriceBookEntry(price_book=price_book, product=product, unit_price=amount)
        entry.full_clean(validate_unique=False)
        entry.save()
    elif entry.unit_price != amount:
        entry.unit_price = amount
        entry.save(update_fields=["unit_price"])
    return entry


@transaction.atomic
def price_book_remove_price(*, actor: Any, price_book: PriceBook, product: Product) -> None:
    _require(actor, "edit")
    for entry in PriceBookEntry.objects.filter(price_book=price_book, product=product):
        entry.delete()


@transaction.atomic
def price_book_set_entries(*, actor: Any, price_book: PriceBook, entries: list[dict[str, Any]]) -> None:
    """Replace the prices of ``price_book`` with ``entries`` (``product`` and ``unit_price`` each).

    Prices that did not change stay as they are (no noise in the history); products left out lose
    their price in this book. Errors are keyed ``entries.<n>.<field>``.
    """
    _require(actor, "edit")
    if len(entries) > MAX_ENTRIES:
        raise ValidationError({"entries": _("A price book holds at most %(limit)d prices.") % {"limit": MAX_ENTRIES}})
    errors = checks.Errors()
    wanted: dict[int, tuple[Product, Decimal]] = {}
    for index, item in enumerate(entries):
        if not isinstance(item, dict):
            errors.add(f"entries.{index}", _("Send each price as an object with product and unit_price."))
            continue
        product = errors.check(f"entries.{index}.product", _check_product, item.get("product"))
        amount = errors.check(f"entries.{index}.unit_price", checks.price, item.get("unit_price"))
        if product is None or amount is None:
            continue
        if product.pk in wanted:
            errors.add(f"entries.{index}.product", _("“%(name)s” is listed twice.") % {"name": product.name})
            continue
        wanted[product.pk] = (product, amount)
    errors.raise_if_any()
    current = {entry.product_id: entry for entry in PriceBookEntry.objects.filter(price_book=price_book)}
    for product_id, entry in current.items():
        if product_id not in wanted:
            entry.delete()
    for product_id, (product, amount) in wanted.items():
        existing = current.get(product_id)
        if existing is None:
            PriceBookEntry.objects.create(price_book=price_book, product=product, unit_price=amount)
        elif existing.unit_price != amount:
            existing.unit_price = amount
            existing.save(update_fields=["unit_price"])


# --- exchange rates -----------------------------------------------------------------------------------------


def _require_admin(actor: Any, action: str) -> None:
    if not selectors.can_manage_rates(actor, action):
        raise PermissionDenied


@transaction.atomic
def exchange_rate_create(*, actor: Any, data: dict[str, Any]) -> ExchangeRate:
    """Add the rate of a currency from a day on: one unit of ``currency`` is worth ``rate`` units of
    the company's currency. Earlier rates stay as its history."""
    _require_admin(actor, "create")
    data = dict(data)
    _unknown(data, ("currency", "rate", "valid_from"))
    errors = checks.Errors()
    currency = errors.check("currency", validate_currency, data.get("currency"))
    if currency and currency == base_currency():
        errors.add(
            "currency",
            _("%(code)s is the company's currency: its rate is always 1. Choose another currency.")
            % {"code": currency},
        )
    value = errors.check("rate", checks.rate, data.get("rate"))
    valid_from = errors.check("valid_from", checks.date, data.get("valid_from"), required=True)
    if currency and valid_from and ExchangeRate.objects.filter(currency=currency, valid_from=valid_from).exists():
        errors.add(
            "valid_from",
            _("%(code)s already has a rate from %(day)s. Delete it first to replace it.")
            % {"code": currency, "day": valid_from.isoformat()},
        )
    errors.raise_if_any()
    rate = ExchangeRate(currency=currency, rate=value, valid_from=valid_from)
    rate.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError:
        raise ValidationError(
            {"valid_from": _("%(code)s already has a rate from %(day)s.") % {"code": currency, "day": valid_from}}
        ) from None
    return rate


@transaction.atomic
def exchange_rate_delete(*, actor: Any, rate: ExchangeRate) -> None:
    _require_admin(actor, "delete")
    rate.delete()
