"""Template helpers of the sales pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from crm.core import money as core_money

register = template.Library()


@register.simple_tag
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """An amount in its currency, in the reader's language (``{% money deal.amount deal.currency %}``);
    without a currency, in the company's."""
    if amount is None:
        return "—"
    return core_money.format_money(Decimal(amount), currency or core_money.base_currency())


@register.filter
def percent(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{float(value):.{int(digits)}f}%"


@register.filter
def mul(value: Any, other: Any) -> Decimal:
    """``{{ line.quantity|mul:line.unit_price }}``: the product of two decimals."""
    return Decimal(value) * Decimal(other)
