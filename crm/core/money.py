"""Money: a ``Decimal`` amount with an ISO 4217 currency code, never a float.

The list of currencies and their names come from Babel (CLDR). ``quantize`` rounds half up to the
currency's minor unit, the rounding people expect on invoices and quotes.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import format_currency, get_currency_name, get_currency_precision, list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

# Codes that are not money: testing, precious metals, units of account.
_NOT_MONEY = {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA"}
MAX_DIGITS = 14
DECIMAL_PLACES = 2
MAX_AMOUNT = Decimal("999999999999.99")


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if len(code) == 3 and code not in _NOT_MONEY)


def base_currency() -> str:
    """The company's own currency: reports and forecasts convert to it."""
    return settings.CRM_CURRENCY


@lru_cache(maxsize=4)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def _babel_locale() -> Locale:
    """The reader's locale for Babel, parsed once (parsing it again for every amount costs half the time)."""
    return _locale("zh_Hans_CN" if (translation.get_language() or "en").startswith("zh") else "en")


def currency_choices() -> list[tuple[str, str]]:
    locale = _babel_locale()
    return sorted((code, f"{code} — {get_currency_name(code, locale=locale)}") for code in currency_codes())


def validate_currency(code: Any) -> str:
    text = str(code or "").strip().upper()
    if text not in currency_codes():
        raise ValidationError(
            _("“%(code)s” is not a known currency code (ISO 4217, e.g. USD, EUR, CNY).") % {"code": code}
        )
    return text


def parse_amount(value: Any, *, allow_negative: bool = False) -> Decimal:
    """A money amount from text or a number; a clear error for anything else."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter an amount, e.g. 1250.00.")) from None
    if not amount.is_finite():
        raise ValidationError(_("Enter an amount, e.g. 1250.00."))
    if amount < 0 and not allow_negative:
        raise ValidationError(_("The amount cannot be negative."))
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(_("The amount is too large."))
    return amount


def quantize(amount: Decimal, currency: str | None = None) -> Decimal:
    """Round half up to the currency's minor unit (two places when unknown; never more than two)."""
    places = DECIMAL_PLACES
    if currency:
        try:
            places = min(int(get_currency_precision(currency)), DECIMAL_PLACES)
        except Exception:
            places = DECIMAL_PLACES
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=_babel_locale())
