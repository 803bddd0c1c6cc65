"""Rolling-origin backtest: how well each method would have forecast the months we already know.

For each origin among the last ``origins`` months of the series, every method is fitted on the months
before it only and forecasts the next 1 to ``horizon`` months; each forecast month that is known is
compared with what was actually won. Per method:

- **MAE**, the mean absolute error over every compared month;
- **MAPE**, the mean absolute percentage error, |actual − forecast| / actual. A month with nothing
  won (actual 0) has no percentage error and is left out of the MAPE (``zero_actuals`` counts them);
  the MAE keeps it.

A method that fails at any origin has no figures (``failed_origins``) and cannot be recommended. The
recommended method is the one with the lowest MAPE that beats the seasonal-naive baseline; when none
does, the baseline itself. (When no month had sales, MAE decides instead.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .codes import METHODS, SEASONAL_NAIVE
from .methods import SEASON, run_method

ORIGINS = 12
HORIZON = 3


@dataclass
class Score:
    method: str
    mae: float | None = None
    mape: float | None = None
    points: int = 0  # forecast months compared
    zero_actuals: int = 0  # of which left out of the MAPE (nothing won that month)
    failed_origins: int = 0
    one_step: list[float | None] = field(default_factory=list)  # the 1-month-ahead forecast at each origin

    @property
    def ok(self) -> bool:
        return self.failed_origins == 0 and self.points > 0


def errors(actual: Sequence[float], predicted: Sequence[float]) -> tuple[float | None, float | None, int]:
    """(MAE, MAPE in percent, months left out of the MAPE because nothing was won)."""
    actual_array = np.asarray(actual, dtype=float)
    predicted_array = np.asarray(predicted, dtype=float)
    if len(actual_array) == 0:
        return None, None, 0
    absolute = np.abs(actual_array - predicted_array)
    mae = float(np.mean(absolute))
    nonzero = actual_array != 0
    zero = int(np.sum(~nonzero))
    mape = float(np.mean(absolute[nonzero] / np.abs(actual_array[nonzero])) * 100) if nonzero.any() else None
    return mae, mape, zero


def rolling_origin(
    y: Sequence[float],
    *,
    origins: int = ORIGINS,
    horizon: int = HORIZON,
    methods: Iterable[str] = METHODS,
    specs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Score]:
    """Backtest ``methods`` on ``y`` from each of its last ``origins`` months (at least a year of
    history before each origin). ``specs`` repeats, per method, what the fit on the whole series chose
    (the ETS trend), so that each origin refits the same model."""
    values = np.asarray(y, dtype=float)
    n = len(values)
    first = max(SEASON, n - origins)
    scores: dict[str, Score] = {}
    for method in methods:
        score = Score(method=method)
        actual: list[float] = []
        predicted: list[float] = []
        for origin in range(first, n):
            steps = min(horizon, n - origin)
            forecast = run_method(method, values[:origin], steps, intervals=False, spec=(specs or {}).get(method))
            if not forecast.ok:
                score.failed_origins += 1
                score.one_step.append(None)
                continue
            score.one_step.append(forecast.mean[0])
            actual.extend(values[origin : origin + steps])
            predicted.extend(forecast.mean[:steps])
        score.points = len(actual)
        if score.ok:
            score.mae, score.mape, score.zero_actuals = errors(actual, predicted)
        scores[method] = score
    return scores


def recommend(scores: dict[str, Score], *, usable: Iterable[str] | None = None) -> str:
    """The method with the lowest MAPE that beats seasonal naive, else seasonal naive. ``usable``
    limits the candidates (a method whose forecast of the future failed cannot be recommended)."""
    allowed = set(usable) if usable is not None else set(scores)
    baseline = scores.get(SEASONAL_NAIVE)
    if baseline is None or not baseline.ok:
        return SEASONAL_NAIVE
    metric = "mape" if baseline.mape is not None else "mae"
    best, best_value = SEASONAL_NAIVE, getattr(baseline, metric)
    for method, score in scores.items():
        if method == SEASONAL_NAIVE or method not in allowed or not score.ok:
            continue
        value = getattr(score, metric)
        if value is not None and best_value is not None and value < best_value:
            best, best_value = method, value
    return best
