"""Statistical forecasts of a monthly series, each with 80% and 95% prediction intervals.

- **Seasonal naive** (the baseline): each month is forecast as the same month a year before. Its
  intervals come from the spread of its own past errors (the year-on-year changes): with residual
  standard deviation σ, the h-month-ahead interval is ± z·σ·√(k + 1), k the whole years in h − 1.
- **Linear regression** (statsmodels OLS) on the last five years at most: a trend, plus a dummy for each
  calendar month once the history holds two full years; intervals from ``get_prediction`` (the
  observation intervals, which widen as the trend is extrapolated).
- **Exponential smoothing** (statsmodels ``ETSModel``, additive errors): an additive or a damped
  trend, whichever has the lower AICc, and additive seasonality once the history holds two full
  years; intervals from the model's ``get_prediction``.

Sales cannot be negative: forecasts and bounds are cut at zero. A model that fails, or whose
optimiser does not converge, is reported as failed (``Forecast.ok`` false, ``error`` says why) and
never raises; statsmodels' warnings are caught here, not printed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .codes import ETS, FAILED, LINEAR, NOT_CONVERGED, SEASONAL_NAIVE, TOO_SHORT

SEASON = 12
MIN_SEASONAL = 24  # months of history before a seasonal pattern is estimated
LINEAR_WINDOW = 60  # the linear trend is fitted on the last five years at most
Z80 = 1.2815515655446004
Z95 = 1.959963984540054


class MethodError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Forecast:
    method: str
    ok: bool
    mean: list[float] = field(default_factory=list)
    lower80: list[float] = field(default_factory=list)
    upper80: list[float] = field(default_factory=list)
    lower95: list[float] = field(default_factory=list)
    upper95: list[float] = field(default_factory=list)
    error: str = ""
    # What was fitted: {"trend": "additive" | "damped" | None, "seasonal": bool}
    spec: dict[str, Any] = field(default_factory=dict)


@contextmanager
def quiet() -> Iterator[list[warnings.WarningMessage]]:
    """Run statsmodels without printing: its warnings are collected (a ConvergenceWarning means failure)."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        yield caught


def _converged(caught: list[warnings.WarningMessage]) -> bool:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    return not any(issubclass(item.category, ConvergenceWarning) for item in caught)


def _clip(values: Any) -> list[float]:
    array = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(array)):
        raise MethodError(FAILED)
    return [round(float(value), 2) for value in np.maximum(array, 0.0)]


def _finish(method: str, mean: Any, bounds: dict[str, Any] | None, spec: dict[str, Any] | None = None) -> Forecast:
    result = Forecast(method=method, ok=True, mean=_clip(mean), spec=spec or {})
    if bounds is not None:
        result.lower80 = _clip(bounds["lower80"])
        result.upper80 = _clip(bounds["upper80"])
        result.lower95 = _clip(bounds["lower95"])
        result.upper95 = _clip(bounds["upper95"])
    return result


def _run(method: str, body: Callable[[], Forecast]) -> Forecast:
    try:
        return body()
    except MethodError as exc:
        return Forecast(method=method, ok=False, error=exc.code)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, IndexError, TypeError):
        return Forecast(method=method, ok=False, error=FAILED)


# --- seasonal naive --------------------------------------------------------------------------------------


def seasonal_naive(y: Any, h: int, *, intervals: bool = True) -> Forecast:
    values = np.asarray(y, dtype=float)

    def body() -> Forecast:
        n = len(values)
        if n < SEASON:
            raise MethodError(TOO_SHORT)
        mean = np.array([values[n - SEASON + (step % SEASON)] for step in range(h)])
        if not intervals:
            return _finish(SEASONAL_NAIVE, mean, None)
        residuals = values[SEASON:] - values[:-SEASON]
        if len(residuals) == 0:
            raise MethodError(TOO_SHORT)
        sigma = math.sqrt(float(np.mean(residuals**2)))
        spread = np.array([sigma * math.sqrt((step // SEASON) + 1) for step in range(h)])
        bounds = {
            "lower80": mean - Z80 * spread,
            "upper80": mean + Z80 * spread,
            "lower95": mean - Z95 * spread,
            "upper95": mean + Z95 * spread,
        }
        return _finish(SEASONAL_NAIVE, mean, bounds, {"seasonal": True})

    return _run(SEASONAL_NAIVE, body)


# --- linear regression -----------------------------------------------------------------------------------


def _design(start: int, count: int, seasonal: bool) -> np.ndarray:
    t = np.arange(start, start + count, dtype=float)
    columns = [np.ones(count), t]
    if seasonal:
        position = np.arange(start, start + count) % SEASON
        columns += [(position == month).astype(float) for month in range(1, SEASON)]
    return np.column_stack(columns)


def linear_regression(y: Any, h: int, *, intervals: bool = True) -> Forecast:
    values = np.asarray(y, dtype=float)

    def body() -> Forecast:
        import statsmodels.api as sm

        n = len(values)
        seasonal = n >= MIN_SEASONAL
        offset = max(0, n - LINEAR_WINDOW)
        train = values[offset:]
        exog = _design(offset, len(train), seasonal)
        if len(train) <= exog.shape[1] + 1:
            raise MethodError(TOO_SHORT)
        future = _design(n, h, seasonal)
        with quiet():
            fitted = sm.OLS(train, exog).fit()
            mean = fitted.predict(future)
            spec = {"trend": "linear", "seasonal": seasonal}
            if not intervals:
                return _finish(LINEAR, mean, None, spec)
            prediction = fitted.get_prediction(future)
            frame80 = prediction.summary_frame(alpha=0.20)
            frame95 = prediction.summary_frame(alpha=0.05)
        bounds = {
            "lower80": frame80["obs_ci_lower"].to_numpy(),
            "upper80": frame80["obs_ci_upper"].to_numpy(),
            "lower95": frame95["obs_ci_lower"].to_numpy(),
            "upper95": frame95["obs_ci_upper"].to_numpy(),
        }
        return _finish(LINEAR, mean, bounds, spec)

    return _run(LINEAR, body)


# --- exponential smoothing (ETS) -------------------------------------------------------------------------


def _ets_fit(values: np.ndarray, *, damped: bool, seasonal: bool) -> Any:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        pd.Series(values),
        error="add",
        trend="add",
        damped_trend=damped,
        seasonal="add" if seasonal else None,
        seasonal_periods=SEASON if seasonal else None,
        initialization_method="heuristic",
    )
    with quiet() as caught:
        fitted = model.fit(disp=False)
    converged = bool((getattr(fitted, "mle_retvals", None) or {}).get("converged", True))
    if not converged or not _converged(caught) or not math.isfinite(float(fitted.aicc)):
        raise MethodError(NOT_CONVERGED)
    return fitted


def _ets_point_forecast(values: np.ndarray, h: int, *, damped: bool, seasonal: bool) -> np.ndarray:
    """Point forecasts only, for the backtest: the parameters are estimated as in ``_ets_fit``, then the
    fitted states are projected (level + damped trend sum + the season a cycle back), which skips the
    results object statsmodels builds around a fit (its covariance matrix costs more than the fit)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        values,
        error="add",
        trend="add",
        damped_trend=damped,
        seasonal="add" if seasonal else None,
        seasonal_periods=SEASON if seasonal else None,
        initialization_method="heuristic",
    )
    with quiet() as caught:
        params = np.asarray(model.fit(disp=False, return_params=True))
        _fitted, states = model.smooth(params, return_raw=True)
    if not _converged(caught):
        raise MethodError(NOT_CONVERGED)
    states = np.asarray(states, dtype=float)
    n = len(states)
    level, trend = states[-1, 0], states[-1, 1]
    phi = float(params[-1]) if damped else 1.0  # parameters: alpha, beta, [gamma], [phi]
    forecast = np.empty(h)
    damping = 0.0
    for step in range(1, h + 1):
        damping += phi**step
        forecast[step - 1] = level + damping * trend
        if seasonal:
            forecast[step - 1] += states[n - 1 + step - SEASON * ((step - 1) // SEASON + 1), -1]
    if not np.all(np.isfinite(forecast)):
        raise MethodError(NOT_CONVERGED)
    return forecast


def ets(y: Any, h: int, *, intervals: bool = True, damped: bool | None = None) -> Forecast:
    """``damped`` None tries both trends and keeps the lower AICc; True or False fits that one only."""
    values = np.asarray(y, dtype=float)

    def body() -> Forecast:
        n = len(values)
        if n < 10:
            raise MethodError(TOO_SHORT)
        seasonal = n >= MIN_SEASONAL
        # The model is fitted on the series divided by its mean level: the same model, better conditioned.
        scale = float(np.mean(np.abs(values))) or 1.0
        scaled = values / scale
        if not intervals and damped is not None:
            spec = {"trend": "damped" if damped else "additive", "seasonal": seasonal}
            return _finish(ETS, _ets_point_forecast(scaled, h, damped=damped, seasonal=seasonal) * scale, None, spec)
        choices = (False, True) if damped is None else (damped,)
        best: Any = None
        best_damped = False
        failure = MethodError(NOT_CONVERGED)
        for option in choices:
            try:
                fitted = _ets_fit(scaled, damped=option, seasonal=seasonal)
            except MethodError as exc:
                failure = exc
                continue
            if best is None or fitted.aicc < best.aicc:
                best, best_damped = fitted, option
        if best is None:
            raise failure
        spec = {"trend": "damped" if best_damped else "additive", "seasonal": seasonal}
        with quiet():
            if not intervals:
                return _finish(ETS, np.asarray(best.forecast(h)) * scale, None, spec)
            prediction = best.get_prediction(start=n, end=n + h - 1)
            frame80 = prediction.summary_frame(alpha=0.20)
            frame95 = prediction.summary_frame(alpha=0.05)
        bounds = {
            "lower80": frame80["pi_lower"].to_numpy() * scale,
            "upper80": frame80["pi_upper"].to_numpy() * scale,
            "lower95": frame95["pi_lower"].to_numpy() * scale,
            "upper95": frame95["pi_upper"].to_numpy() * scale,
        }
        return _finish(ETS, frame95["mean"].to_numpy() * scale, bounds, spec)

    return _run(ETS, body)


def run_method(method: str, y: Any, h: int, *, intervals: bool = True, spec: dict[str, Any] | None = None) -> Forecast:
    """Forecast ``h`` months of ``y`` with ``method``; ``spec`` (ETS) repeats the trend chosen before."""
    if method == SEASONAL_NAIVE:
        return seasonal_naive(y, h, intervals=intervals)
    if method == LINEAR:
        return linear_regression(y, h, intervals=intervals)
    if method == ETS:
        damped = None if not spec or "trend" not in spec else spec["trend"] == "damped"
        return ets(y, h, intervals=intervals, damped=damped)
    raise ValueError(f"unknown method {method!r}")
