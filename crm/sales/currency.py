"""Conversion of amounts into the company's currency with the rates administrators keep.

A rate applies from its ``valid_from`` day until the next rate of the same currency. An amount in a
currency with no rate on or before the day cannot be converted: the callers say so rather than guess.
``RateBook`` loads the rates once, for converting many amounts (reports, forecasts, dashboards).
"""

from __future__ import annotations

import bisect
from datetime import date
from decimal import Decimal

from django.utils import timezone

from crm.core.money import base_currency, quantize

from .models import ExchangeRate


class RateBook:
    def __init__(self) -> None:
        self.base = base_currency()
        self._days: dict[str, list[date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        for currency, day, rate in ExchangeRate.objects.order_by("currency", "valid_from").values_list(
            "currency", "valid_from", "rate"
        ):
            self._days.setdefault(currency, []).append(day)
            self._rates.setdefault(currency, []).append(rate)

    def rate(self, currency: str, day: date | None = None) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        days = self._days.get(currency)
        if not days:
            return None
        index = bisect.bisect_right(days, day or timezone.localdate()) - 1
        # Before the first rate, the first rate is the best we know.
        return self._rates[currency][max(index, 0)]

    def to_base(self, amount: Decimal, currency: str, day: date | None = None) -> Decimal | None:
        rate = self.rate(currency, day)
        if rate is None:
            return None
        return quantize(amount * rate, self.base)

    def missing(self, currencies: set[str]) -> set[str]:
        """The currencies of ``currencies`` that have no rate at all."""
        return {code for code in currencies if code != self.base and code not in self._days}


def to_base(amount: Decimal, currency: str, day: date | None = None) -> Decimal | None:
    return RateBook().to_base(amount, currency, day)
