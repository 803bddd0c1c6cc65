"""What a forecast run stores (``ForecastRun.result``), and how the page reads it back.

The job builds the result once per scope (``build``); the page and the API only read it. Texts a person
reads are not stored: the result holds codes and numbers, translated and formatted when shown
(``present``), so the same run reads in English and in Chinese.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .codes import ERROR_LABELS, INSUFFICIENT, METHOD_LABELS, OK, SEASONAL_NAIVE
from .scopes import Scope
from .series import WeightedPipeline, WonSeries, add_months, month_key

FORMAT = 1
PAST_MONTHS = 12  # months before the current one in the forecast / quota / actual table


def _number(amount: Decimal | None) -> float | None:
    return None if amount is None else float(amount)


def build(
    *,
    scope: Scope,
    label: str,
    today: date,
    currency: str,
    won: WonSeries,
    pipeline: WeightedPipeline,
    statistics: dict[str, Any],
    quotas: dict[str, Decimal],
) -> dict[str, Any]:
    """The JSON-ready result of one scope. ``quotas``: month key -> quota, for the past and coming months."""
    current = pipeline.months[0]
    past = [add_months(current, -step) for step in range(PAST_MONTHS, 0, -1)]
    skipped_currencies = sorted(won.skipped.currencies | pipeline.skipped.currencies)
    return {
        "format": FORMAT,
        "scope": scope.key,
        "kind": scope.kind,
        "label": label,
        "currency": currency,
        "today": today.isoformat(),
        "computed_at": timezone.now().isoformat(),
        "history": {
            "months": [month_key(month) for month in won.months],
            "amounts": [float(amount) for amount in won.amounts],
        },
        "current": {"month": month_key(current), "actual": float(won.current)},
        "months": [month_key(month) for month in pipeline.months],
        "statistics": statistics,
        "pipeline": {
            "amounts": [float(amount) for amount in pipeline.amounts],
            "deals": pipeline.deals,
            "undated": float(pipeline.undated),
            "undated_deals": pipeline.undated_deals,
            "later": float(pipeline.later),
            "later_deals": pipeline.later_deals,
        },
        "past": {
            "months": [month_key(month) for month in past],
            "actual": [_number(won.amount_of(month)) for month in past],
        },
        "quotas": {key: float(amount) for key, amount in sorted(quotas.items())},
        "warnings": {
            "won_skipped": won.skipped.deals,
            "open_skipped": pipeline.skipped.deals,
            "currencies": skipped_currencies,
        },
    }


# --- reading ----------------------------------------------------------------------------------------------


class MoneyFormat:
    """Amounts of one currency in the active language, formatted the way ``crm.core.money.format_money``
    does (Babel's symbol and grouping), looked up once per page rather than once per cell: a forecast
    page shows some two hundred amounts."""

    def __init__(self, currency: str) -> None:
        from babel.numbers import (
            get_currency_precision,
            get_currency_symbol,
            get_decimal_symbol,
            get_group_symbol,
            get_minus_sign_symbol,
        )

        locale = "zh_Hans_CN" if (translation.get_language() or "en").startswith("zh") else "en"
        self.currency = currency
        self.symbol = get_currency_symbol(currency, locale=locale)
        self.group = get_group_symbol(locale)
        self.decimal = get_decimal_symbol(locale)
        self.minus = get_minus_sign_symbol(locale)
        self.places = min(int(get_currency_precision(currency)), 2)

    def _format(self, value: float | None, places: int) -> str:
        if value is None:
            return ""
        amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        text = f"{abs(amount):,.{places}f}".replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)
        return f"{self.minus if amount < 0 else ''}{self.symbol}{text}"

    def money(self, value: float | None) -> str:
        """An amount to the currency's minor unit (won, pipeline, quota)."""
        return self._format(value, self.places)

    def estimate(self, value: float | None) -> str:
        """A statistical figure (forecast, interval, error) in whole units: cents would be false precision."""
        return self._format(value, 0)


def _month_label(key: str) -> str:
    from django.utils.formats import date_format

    year, month = key.split("-")
    return date_format(date(int(year), int(month), 1), "YEAR_MONTH_FORMAT")


def _mape_text(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def present(result: dict[str, Any]) -> dict[str, Any]:
    """The page's view of a stored result: rows of formatted money and the chart's data."""
    currency = result.get("currency") or "USD"
    amounts = MoneyFormat(currency)
    statistics = result.get("statistics") or {}
    months: list[str] = result.get("months") or []
    pipeline = result.get("pipeline") or {}
    quotas: dict[str, float] = result.get("quotas") or {}
    history = result.get("history") or {"months": [], "amounts": []}
    current = result.get("current") or {}
    recommended = statistics.get("recommended")
    has_model = statistics.get("status") == OK
    methods = statistics.get("methods") or []
    chosen = next((method for method in methods if method["key"] == recommended), None)

    method_rows = []
    for method in methods:
        backtest = method.get("backtest") or {}
        method_rows.append(
            {
                "key": method["key"],
                "label": METHOD_LABELS.get(method["key"], method["key"]),
                "ok": method.get("ok"),
                "error": str(ERROR_LABELS.get(method.get("error") or "", "")),
                "spec": _spec_text(method.get("spec") or {}, method["key"]),
                "backtest_ok": backtest.get("ok"),
                "mape": _mape_text(backtest.get("mape")),
                "mae": amounts.estimate(backtest.get("mae")),
                "points": backtest.get("points", 0),
                "zero_actuals": backtest.get("zero_actuals", 0),
                "failed_origins": backtest.get("failed_origins", 0),
                "recommended": method["key"] == recommended,
                "baseline": method["key"] == SEASONAL_NAIVE,
            }
        )

    coming = []
    for index, key in enumerate(months):
        row: dict[str, Any] = {
            "month": _month_label(key),
            "is_current": index == 0,
            "pipeline": amounts.money(_at(pipeline.get("amounts"), index)),
            "deals": _at(pipeline.get("deals"), index) or 0,
            "quota": amounts.money(quotas.get(key)),
            "actual": amounts.money(current.get("actual")) if index == 0 else "",
            "methods": [
                amounts.estimate(_at(method.get("forecast"), index)) if method.get("ok") else "" for method in methods
            ],
        }
        if chosen and chosen.get("ok"):
            row["forecast"] = amounts.estimate(_at(chosen["forecast"], index))
            row["interval80"] = _range(chosen, "80", index, amounts)
            row["interval95"] = _range(chosen, "95", index, amounts)
        coming.append(row)

    past = result.get("past") or {"months": [], "actual": []}
    one_step: dict[str, float | None] = {}
    if chosen:
        first = (statistics.get("backtest") or {}).get("first_origin", 0)
        steps = (chosen.get("backtest") or {}).get("one_step") or []
        for offset, value in enumerate(steps):
            position = first + offset
            if 0 <= position < len(history["months"]):
                one_step[history["months"][position]] = value
    past_rows = [
        {
            "month": _month_label(key),
            "forecast": amounts.estimate(one_step.get(key)),
            "quota": amounts.money(quotas.get(key)),
            "actual": amounts.money(_at(past.get("actual"), index)),
        }
        for index, key in enumerate(past.get("months") or [])
    ]

    warnings = result.get("warnings") or {}
    return {
        "currency": currency,
        "label": result.get("label") or "",
        "has_model": has_model,
        "insufficient": statistics.get("status") == INSUFFICIENT,
        "statistics": statistics,
        "recommended_label": METHOD_LABELS.get(recommended, "") if recommended else "",
        "method_rows": method_rows,
        "method_headers": [METHOD_LABELS.get(method["key"], method["key"]) for method in methods],
        "coming": coming,
        "past": past_rows,
        "pipeline_undated": amounts.money(pipeline.get("undated")) if pipeline.get("undated_deals") else "",
        "pipeline_undated_deals": pipeline.get("undated_deals", 0),
        "pipeline_later": amounts.money(pipeline.get("later")) if pipeline.get("later_deals") else "",
        "pipeline_later_deals": pipeline.get("later_deals", 0),
        "skipped_deals": (warnings.get("won_skipped") or 0) + (warnings.get("open_skipped") or 0),
        "skipped_currencies": ", ".join(warnings.get("currencies") or []),
        "zero_actuals": max((row["zero_actuals"] for row in method_rows), default=0),
        "chart": chart_data(result),
    }


def _at(values: list[Any] | None, index: int) -> Any:
    if not values or index >= len(values):
        return None
    return values[index]


def _range(method: dict[str, Any], level: str, index: int, amounts: MoneyFormat) -> str:
    low, high = _at(method.get(f"lower{level}"), index), _at(method.get(f"upper{level}"), index)
    if low is None or high is None:
        return ""
    return f"{amounts.estimate(low)} – {amounts.estimate(high)}"


def _spec_text(spec: dict[str, Any], method: str) -> str:
    if method == SEASONAL_NAIVE:
        return _("the same month a year before")
    parts = []
    trend = spec.get("trend")
    if trend == "damped":
        parts.append(_("damped trend"))
    elif trend:
        parts.append(_("trend"))
    if spec.get("seasonal"):
        parts.append(_("monthly seasonality"))
    return _(" + ").join(parts)


def chart_data(result: dict[str, Any]) -> dict[str, Any]:
    """What ``sales-forecast.js`` draws: history, each method's forecast with its intervals, the weighted
    pipeline and the quota, on one month axis."""
    history = result.get("history") or {"months": [], "amounts": []}
    months: list[str] = result.get("months") or []
    statistics = result.get("statistics") or {}
    quotas: dict[str, float] = result.get("quotas") or {}
    axis = list(history["months"]) + months
    lead: list[float | None] = [None] * len(history["months"])
    methods = []
    for method in statistics.get("methods") or []:
        if not method.get("ok"):
            continue
        methods.append(
            {
                "key": method["key"],
                "name": str(METHOD_LABELS.get(method["key"], method["key"])),
                "recommended": method["key"] == statistics.get("recommended"),
                "mean": lead + method["forecast"],
                "lower80": lead + method["lower80"],
                "upper80": lead + method["upper80"],
                "lower95": lead + method["lower95"],
                "upper95": lead + method["upper95"],
            }
        )
    pipeline = (result.get("pipeline") or {}).get("amounts") or []
    return {
        "currency": result.get("currency") or "",
        "months": axis,
        "history": list(history["amounts"]) + [None] * len(months),
        "pipeline": lead + list(pipeline),
        "quota": [quotas.get(key) for key in axis],
        "methods": methods,
        "labels": {
            "history": _("Won"),
            "pipeline": _("Weighted pipeline"),
            "quota": _("Quota"),
            "interval80": _("Interval (80%)"),
            "interval95": _("Interval (95%)"),
        },
    }
