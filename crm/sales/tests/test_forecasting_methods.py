"""The statistical methods, the backtest and the recommendation, on series made for the purpose."""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pytest

from crm.sales.forecasting.backtest import errors, recommend, rolling_origin
from crm.sales.forecasting.codes import ETS, INSUFFICIENT, LINEAR, METHODS, NOT_CONVERGED, OK, SEASONAL_NAIVE
from crm.sales.forecasting.engine import statistical_forecast
from crm.sales.forecasting.methods import (
    ets,
    linear_regression,
    run_method,
    seasonal_naive,
)


def seasonal_series(months: int = 60, *, trend: float = 400.0, noise: float = 1500.0, seed: int = 7) -> list[float]:
    """Monthly sales with a rising trend, a yearly cycle and noise: what a growing business looks like."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    values = 40_000 + trend * t + 9_000 * np.sin(2 * np.pi * t / 12) + 4_000 * np.cos(4 * np.pi * t / 12)
    return list(np.round(np.maximum(values + rng.normal(0, noise, months), 0), 2))


# --- each method ---------------------------------------------------------------------------------------------


def test_seasonal_naive_repeats_last_year():
    y = seasonal_series(36)
    forecast = seasonal_naive(y, 14)
    assert forecast.ok
    assert forecast.mean[:12] == [round(value, 2) for value in y[-12:]]
    assert forecast.mean[12:] == [round(value, 2) for value in y[-12:-10]]


@pytest.mark.parametrize("method", METHODS)
def test_each_method_forecasts_a_seasonal_series_with_intervals_around_the_point(method):
    y = seasonal_series(60)
    forecast = run_method(method, y, 12)
    assert forecast.ok, forecast.error
    assert len(forecast.mean) == 12
    for low95, low80, point, high80, high95 in zip(
        forecast.lower95, forecast.lower80, forecast.mean, forecast.upper80, forecast.upper95, strict=True
    ):
        assert low95 <= low80 <= point <= high80 <= high95
    # The seasonal pattern is found: the peak month of the cycle is forecast above the trough.
    assert max(forecast.mean) - min(forecast.mean) > 10_000


def _widths(forecast, level="95"):
    lower, upper = getattr(forecast, f"lower{level}"), getattr(forecast, f"upper{level}")
    return [high - low for low, high in zip(lower, upper, strict=True)]


@pytest.mark.parametrize("level", ["80", "95"])
def test_ets_intervals_widen_with_every_month_ahead(level):
    widths = _widths(ets(seasonal_series(60), 12), level)
    assert all(later > earlier for earlier, later in pairwise(widths))


def test_linear_regression_intervals_widen_as_the_trend_is_extrapolated():
    # Each calendar month has its own dummy, so compare a month with the same month a year later.
    widths = _widths(linear_regression(seasonal_series(60), 24))
    assert all(widths[step + 12] > widths[step] for step in range(12))


def test_seasonal_naive_intervals_widen_by_whole_years():
    widths = _widths(seasonal_naive(seasonal_series(48), 24))
    assert max(widths[:12]) == pytest.approx(min(widths[:12]))
    assert max(widths[12:]) == pytest.approx(min(widths[12:]))
    assert widths[12] == pytest.approx(widths[0] * np.sqrt(2), rel=1e-3)


def test_linear_regression_uses_month_dummies_from_two_years_and_a_trend_only_before():
    assert linear_regression(seasonal_series(24), 3).spec == {"trend": "linear", "seasonal": True}
    assert linear_regression(seasonal_series(18), 3).spec == {"trend": "linear", "seasonal": False}


def test_ets_chooses_a_trend_and_seasonality():
    forecast = ets(seasonal_series(60), 6)
    assert forecast.ok
    assert forecast.spec["seasonal"] is True
    assert forecast.spec["trend"] in {"additive", "damped"}


def test_a_method_that_does_not_converge_is_reported_failed_without_a_warning_or_an_exception():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping the method would fail the test
        forecast = ets([0.0] * 36, 12)
    assert not forecast.ok
    assert forecast.error == NOT_CONVERGED
    assert forecast.mean == []


def test_forecasts_are_never_negative():
    falling = [float(value) for value in np.linspace(10_000, 500, 36)]
    forecast = linear_regression(falling, 12)
    assert forecast.ok
    assert min(forecast.mean) >= 0 and min(forecast.lower95) >= 0


# --- backtest --------------------------------------------------------------------------------------------


def test_errors_by_hand():
    # |100-90| = 10 (10%), |0-5| = 5 (no percentage: left out), |200-260| = 60 (30%)
    mae, mape, zero = errors([100, 0, 200], [90, 5, 260])
    assert mae == pytest.approx(25.0)
    assert mape == pytest.approx(20.0)
    assert zero == 1
    assert errors([0, 0], [1, 3]) == (2.0, None, 2)


def test_rolling_origin_by_hand():
    # Seasonal naive on two identical years then a third 10% higher: every forecast is 10% short of a
    # third-year month, i.e. off by a tenth of the forecast.
    year = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1100.0, 1200.0]
    y = year + year + [value * 1.1 for value in year]
    scores = rolling_origin(y, origins=12, horizon=3, methods=[SEASONAL_NAIVE])
    score = scores[SEASONAL_NAIVE]
    assert score.ok
    # Origins 24..35; horizons 1..3 where the month is known: 10×3 + 2 + 1 = 33 months compared.
    assert score.points == 33
    absolute = []
    for origin in range(24, 36):
        for step in range(min(3, 36 - origin)):
            actual = y[origin + step]
            absolute.append(actual - actual / 1.1)
    assert score.mae == pytest.approx(sum(absolute) / len(absolute))
    assert score.mape == pytest.approx(100 * (1 - 1 / 1.1))
    assert score.one_step == pytest.approx(y[12:24])


def test_rolling_origin_leaves_zero_months_out_of_the_mape_only():
    y = [100.0] * 24 + [0.0] * 12
    score = rolling_origin(y, origins=12, horizon=1, methods=[SEASONAL_NAIVE])[SEASONAL_NAIVE]
    assert score.points == 12 and score.zero_actuals == 12
    assert score.mape is None
    assert score.mae == pytest.approx(100.0)


def test_ets_beats_seasonal_naive_on_trend_and_season():
    scores = rolling_origin(seasonal_series(60), origins=12, horizon=3)
    assert scores[ETS].ok and scores[SEASONAL_NAIVE].ok
    assert scores[ETS].mape < scores[SEASONAL_NAIVE].mape
    assert scores[ETS].mae < scores[SEASONAL_NAIVE].mae
    assert recommend(scores) in {ETS, LINEAR}


def test_recommendation_is_the_baseline_when_nothing_beats_it():
    from crm.sales.forecasting.backtest import Score

    scores = {
        SEASONAL_NAIVE: Score(SEASONAL_NAIVE, mae=10, mape=5.0, points=10),
        LINEAR: Score(LINEAR, mae=9, mape=6.0, points=10),
        ETS: Score(ETS, mae=20, mape=5.5, points=10),
    }
    assert recommend(scores) == SEASONAL_NAIVE
    scores[ETS].mape = 4.0
    assert recommend(scores) == ETS
    assert recommend(scores, usable=[SEASONAL_NAIVE, LINEAR]) == SEASONAL_NAIVE
    scores[ETS].failed_origins = 1
    assert recommend(scores) == SEASONAL_NAIVE


# --- the whole statistical forecast ---------------------------------------------------------------------


def test_statistical_forecast_of_five_years():
    result = statistical_forecast(seasonal_series(60), h=12)
    assert result["status"] == OK
    assert [method["key"] for method in result["methods"]] == list(METHODS)
    assert result["recommended"] in METHODS
    chosen = next(method for method in result["methods"] if method["key"] == result["recommended"])
    assert chosen["ok"] and len(chosen["forecast"]) == 12
    baseline = next(method for method in result["methods"] if method["key"] == SEASONAL_NAIVE)
    if result["recommended"] != SEASONAL_NAIVE:
        assert chosen["backtest"]["mape"] < baseline["backtest"]["mape"]
    assert result["backtest"] == {"origins": 12, "horizon": 3, "first_origin": 48}


@pytest.mark.parametrize(
    ("values", "months", "nonzero"),
    [
        (seasonal_series(23), 23, 23),  # not two years
        ([0.0] * 14 + [1000.0] * 11, 25, 11),  # two years, but fewer than 12 months with sales
        ([5.0, 7.0, 9.0], 3, 3),  # three points
    ],
)
def test_too_little_history_gives_no_statistical_forecast(values, months, nonzero):
    result = statistical_forecast(values, h=12)
    assert result["status"] == INSUFFICIENT
    assert result["methods"] == [] and result["recommended"] is None
    assert (result["history_months"], result["nonzero_months"]) == (months, nonzero)


@pytest.mark.parametrize("damped", [False, True])
@pytest.mark.parametrize("months", [18, 40])
def test_the_backtests_quick_ets_forecast_is_the_same_as_statsmodels(damped, months):
    y = seasonal_series(months)
    quick = ets(y, 14, intervals=False, damped=damped)
    full = ets(y, 14, intervals=True, damped=damped)
    assert quick.ok and full.ok
    assert quick.mean == pytest.approx(full.mean, abs=0.02)
