"""Checks of the numbers and texts a person types into products, prices, rates and quote lines.

Each returns the clean value or raises a ``ValidationError`` with a message that says what to type;
the services put it next to the field it came from. Money amounts follow ``crm.core.money``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from crm.core.money import parse_amount

HUNDRED = Decimal(100)


def number(value: Any) -> Decimal:
    """A ``Decimal`` from a number or its text (a dot for decimals); never from a float's noise."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(_("Enter a number."))
    if isinstance(value, float):
        value = repr(value)
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number.")) from None
    if not result.is_finite():
        raise ValidationError(_("Enter a number."))
    return result


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def quantity(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(1)
    result = number(value)
    if result <= 0:
        raise ValidationError(_("Enter a quantity greater than zero."))
    if _places(result) > 3:
        raise ValidationError(_("Enter a quantity with at most 3 decimal places."))
    if result >= Decimal("1000000000"):
        raise ValidationError(_("The quantity is too large."))
    return result.quantize(Decimal("0.001"))


def price(value: Any) -> Decimal:
    """A unit price: not negative, at most two decimal places."""
    if isinstance(value, bool):
        raise ValidationError(_("Enter an amount, e.g. 1250.00."))
    result = parse_amount(value, allow_negative=True)
    if result < 0:
        raise ValidationError(_("A price cannot be negative."))
    if _places(result) > 2:
        raise ValidationError(_("Enter a price with at most 2 decimal places."))
    return result.quantize(Decimal("0.01"))


def percent(value: Any, *, kind: str) -> Decimal:
    """A discount or a tax rate from 0 to 100 with at most two decimal places. ``kind``: "discount" or "tax"."""
    if value is None or value == "":
        return Decimal(0)
    result = number(value)
    if result < 0:
        raise ValidationError(
            _("A discount cannot be negative.") if kind == "discount" else _("A tax rate cannot be negative.")
        )
    if result > HUNDRED:
        raise ValidationError(
            _("A discount cannot be more than 100%.")
            if kind == "discount"
            else _("A tax rate cannot be more than 100%.")
        )
    if _places(result) > 2:
        raise ValidationError(_("Enter a percentage with at most 2 decimal places."))
    return result.quantize(Decimal("0.01"))


def rate(value: Any) -> Decimal:
    """An exchange rate: greater than zero, at most 8 decimal places."""
    result = number(value)
    if result <= 0:
        raise ValidationError(_("The rate must be greater than zero."))
    if _places(result) > 8:
        raise ValidationError(_("Enter a rate with at most 8 decimal places."))
    if result >= Decimal("10000000000"):
        raise ValidationError(_("The rate is too large."))
    return result.quantize(Decimal("0.00000001"))


def date(value: Any, *, required: bool = False) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise ValidationError(_("Enter a date."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = None
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a date, e.g. 2026-03-31."))
    return parsed


def text(value: Any, *, limit: int | None = None, required: bool = False, single_line: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."))
    result = " ".join(value.split()) if single_line else value.strip()
    if required and not result:
        raise ValidationError(_("This field is required."))
    if limit is not None and len(result) > limit:
        raise ValidationError(_("Enter at most %(limit)d characters.") % {"limit": limit})
    return result


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(_("Choose yes or no."))


class Errors:
    """Collects field errors, so that one answer names every field that needs attention."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def check(self, field: str, run: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return run(*args, **kwargs)
        except ValidationError as exc:
            for message in exc.messages:
                self.add(field, message)
            return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)
