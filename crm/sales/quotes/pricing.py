"""The arithmetic of a quote, in ``Decimal`` with rounding half up to the currency's minor unit.

Each line is rounded on its own, then the quote adds up the rounded lines, so that the figures
printed on the quote always add up (no hidden cent from rounding only the totals):

* ``gross`` = quantity × unit price, rounded;
* ``net`` = quantity × unit price × (1 − discount / 100), rounded (the line's amount);
* ``discount`` = gross − net (so a discount of 100 % gives a net of zero exactly);
* ``tax`` = net × tax rate / 100, rounded.

The quote's ``subtotal`` is the sum of the gross amounts, ``discount_total`` the sum of the line
discounts, ``tax_total`` the sum of the line taxes and ``total`` = subtotal − discount_total +
tax_total, which equals the sum of every line's net plus its tax.

Rounding uses the currency's minor unit: two places for USD, EUR and CNY, none for JPY
(``crm.core.money.quantize``); half a unit rounds away from zero (0.005 -> 0.01).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from crm.core.money import quantize

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class QuoteTotals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    lines: tuple[LineAmounts, ...]

    @property
    def net_total(self) -> Decimal:
        return self.subtotal - self.discount_total


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal, currency: str
) -> LineAmounts:
    """The rounded amounts of one line (its inputs already checked: nothing negative, discount ≤ 100)."""
    with localcontext() as context:
        context.prec = 60  # exact for any input the fields hold: rounding happens in ``quantize`` only
        exact = quantity * unit_price
        gross = quantize(exact, currency)
        net = quantize(exact * (HUNDRED - discount_percent) / HUNDRED, currency)
        tax = quantize(net * tax_rate / HUNDRED, currency)
    return LineAmounts(gross=gross, discount=gross - net, net=net, tax=tax)


def quote_totals(lines: Iterable[LineAmounts], currency: str) -> QuoteTotals:
    """Add up lines already rounded by ``line_amounts``."""
    rows = tuple(lines)
    zero = quantize(ZERO, currency)
    subtotal = sum((row.gross for row in rows), zero)
    discount_total = sum((row.discount for row in rows), zero)
    tax_total = sum((row.tax for row in rows), zero)
    return QuoteTotals(
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        total=subtotal - discount_total + tax_total,
        lines=rows,
    )
