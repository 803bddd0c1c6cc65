"""The arithmetic of quotes: each line rounded half up to the currency's minor unit, and totals that
are the sums of the rounded lines."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.sales.quotes.pricing import line_amounts, quote_totals

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2)
percents = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
currencies = st.sampled_from(["USD", "EUR", "CNY", "JPY"])


def amounts(quantity: str, price: str, discount: str = "0", tax: str = "0", currency: str = "USD"):
    return line_amounts(
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        discount_percent=Decimal(discount),
        tax_rate=Decimal(tax),
        currency=currency,
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(quantities, prices, percents, percents), min_size=0, max_size=25),
    currencies,
)
def test_totals_are_the_sums_of_the_rounded_lines(rows, currency):
    lines = [
        line_amounts(quantity=q, unit_price=p, discount_percent=d, tax_rate=t, currency=currency) for q, p, d, t in rows
    ]
    totals = quote_totals(lines, currency)
    assert totals.subtotal == sum((line.gross for line in lines), Decimal(0))
    assert totals.discount_total == sum((line.discount for line in lines), Decimal(0))
    assert totals.tax_total == sum((line.tax for line in lines), Decimal(0))
    assert totals.total == sum((line.net + line.tax for line in lines), Decimal(0))
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_total
    places = 0 if currency == "JPY" else 2
    for line in lines:
        for value in (line.gross, line.discount, line.net, line.tax):
            assert value >= 0
            assert -value.as_tuple().exponent <= places
        assert line.net <= line.gross


@settings(max_examples=200, deadline=None)
@given(quantities, prices, percents, currencies)
def test_no_discount_leaves_the_gross_and_a_full_discount_leaves_nothing(quantity, price, tax, currency):
    plain = line_amounts(
        quantity=quantity, unit_price=price, discount_percent=Decimal(0), tax_rate=tax, currency=currency
    )
    assert plain.discount == 0 and plain.net == plain.gross
    free = line_amounts(
        quantity=quantity, unit_price=price, discount_percent=Decimal(100), tax_rate=tax, currency=currency
    )
    assert free.net == 0 and free.tax == 0 and free.discount == free.gross


def test_half_a_cent_rounds_up():
    assert amounts("0.5", "0.01").gross == Decimal("0.01")  # 0.005 -> 0.01
    assert amounts("0.5", "0.03").gross == Decimal("0.02")  # 0.015 -> 0.02 (half up, not to even)
    assert amounts("0.5", "0.05").gross == Decimal("0.03")  # 0.025 -> 0.03
    assert amounts("0.499", "0.01").gross == Decimal("0.00")  # 0.00499 -> 0.00
    # Tax of half a cent: 0.10 × 5 % = 0.005 -> 0.01
    assert amounts("1", "0.10", tax="5").tax == Decimal("0.01")
    # Discount to half a cent: 0.01 × 50 % = 0.005 -> net 0.01, discount 0.00
    line = amounts("1", "0.01", discount="50")
    assert (line.net, line.discount) == (Decimal("0.01"), Decimal("0.00"))


def test_each_line_is_rounded_before_the_sum():
    # Three lines of 0.005 tax each: 0.01 + 0.01 + 0.01 = 0.03, not round(0.015) = 0.02.
    lines = [amounts("1", "0.10", tax="5") for _ in range(3)]
    assert quote_totals(lines, "USD").tax_total == Decimal("0.03")


def test_a_worked_example():
    # 3 × 19.99 = 59.97; 10 % off -> 53.973 -> 53.97; tax 19 % of 53.97 = 10.2543 -> 10.25.
    line = amounts("3", "19.99", discount="10", tax="19", currency="EUR")
    assert line == type(line)(
        gross=Decimal("59.97"), discount=Decimal("6.00"), net=Decimal("53.97"), tax=Decimal("10.25")
    )
    totals = quote_totals([line, amounts("2", "5.00", currency="EUR")], "EUR")
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("69.97"),
        Decimal("6.00"),
        Decimal("10.25"),
        Decimal("74.22"),
    )


def test_yen_has_no_minor_unit():
    line = amounts("3", "333.50", currency="JPY")  # 1000.50 -> 1001 yen
    assert line.gross == Decimal("1001")
    assert quote_totals([], "JPY").total == Decimal("0")
