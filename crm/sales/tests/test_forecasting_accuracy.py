"""Accuracy on real data: Australian wine sales by month (Jan 1980 – Aug 1994), the ``wineind`` series
shipped with pmdarima (a development dependency). The same backtest as the forecast page's must
recommend a method that beats the seasonal-naive baseline."""

from __future__ import annotations

from pmdarima.datasets import load_wineind

from crm.sales.forecasting.codes import OK, SEASONAL_NAIVE
from crm.sales.forecasting.engine import statistical_forecast


def test_the_recommended_method_beats_seasonal_naive_on_australian_wine_sales():
    series = [float(value) for value in load_wineind()]
    assert len(series) == 176

    result = statistical_forecast(series, h=12)

    assert result["status"] == OK
    scores = {method["key"]: method["backtest"] for method in result["methods"]}
    assert all(score["ok"] for score in scores.values())
    assert result["recommended"] != SEASONAL_NAIVE
    assert scores[result["recommended"]]["mape"] < scores[SEASONAL_NAIVE]["mape"]
    # Every statistical method does better than the baseline here, by MAPE and by MAE.
    for key, score in scores.items():
        if key != SEASONAL_NAIVE:
            assert score["mape"] < scores[SEASONAL_NAIVE]["mape"], key
            assert score["mae"] < scores[SEASONAL_NAIVE]["mae"], key
