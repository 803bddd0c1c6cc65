"""The statistical forecast of one monthly series: each method's forecast and intervals, the backtest,
the recommendation. Or, with too little history, plainly none.

Too little history means fewer than 24 complete months since the first win, or fewer than 12 months
with any win: a model fitted on that would be a guess dressed as science, so no method runs and the
page shows the weighted pipeline only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backtest import HORIZON, ORIGINS, recommend, rolling_origin
from .codes import INSUFFICIENT, METHODS, OK
from .methods import run_method

MIN_HISTORY = 24
MIN_NONZERO = 12


def statistical_forecast(
    values: Sequence[float], *, h: int = 12, origins: int = ORIGINS, horizon: int = HORIZON
) -> dict[str, Any]:
    """What is stored under ``statistics`` in a forecast run (JSON-ready)."""
    n = len(values)
    nonzero = sum(1 for value in values if value)
    summary: dict[str, Any] = {
        "history_months": n,
        "nonzero_months": nonzero,
        "min_history": MIN_HISTORY,
        "min_nonzero": MIN_NONZERO,
    }
    if n < MIN_HISTORY or nonzero < MIN_NONZERO:
        return {**summary, "status": INSUFFICIENT, "methods": [], "recommended": None}
    forecasts = {method: run_method(method, values, h) for method in METHODS}
    specs = {method: forecast.spec for method, forecast in forecasts.items() if forecast.ok}
    scores = rolling_origin(values, origins=origins, horizon=horizon, specs=specs)
    usable = [method for method, forecast in forecasts.items() if forecast.ok]
    recommended = recommend(scores, usable=usable)
    methods = []
    for method in METHODS:
        forecast, score = forecasts[method], scores[method]
        methods.append(
            {
                "key": method,
                "ok": forecast.ok,
                "error": forecast.error,
                "spec": forecast.spec,
                "forecast": forecast.mean,
                "lower80": forecast.lower80,
                "upper80": forecast.upper80,
                "lower95": forecast.lower95,
                "upper95": forecast.upper95,
                "backtest": {
                    "ok": score.ok,
                    "mae": None if score.mae is None else round(score.mae, 2),
                    "mape": None if score.mape is None else round(score.mape, 2),
                    "points": score.points,
                    "zero_actuals": score.zero_actuals,
                    "failed_origins": score.failed_origins,
                    "one_step": score.one_step,
                },
            }
        )
    first_origin = n - len(scores[METHODS[0]].one_step)
    return {
        **summary,
        "status": OK,
        "methods": methods,
        "recommended": recommended,
        "backtest": {"origins": n - first_origin, "horizon": horizon, "first_origin": first_origin},
    }
