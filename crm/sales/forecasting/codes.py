"""The codes a stored forecast speaks in (methods, outcomes, why a method gave nothing), with their
labels. Kept apart from the numerical code so that reading a stored forecast never loads numpy."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

OK = "ok"
INSUFFICIENT = "insufficient"

SEASONAL_NAIVE = "seasonal_naive"
LINEAR = "linear"
ETS = "ets"
METHODS = (SEASONAL_NAIVE, LINEAR, ETS)
METHOD_LABELS = {
    SEASONAL_NAIVE: _("Seasonal naive"),
    LINEAR: _("Linear regression"),
    ETS: _("Exponential smoothing (ETS)"),
}

# Why a method gave no forecast (stored as a code, shown translated).
NOT_CONVERGED = "not_converged"
FAILED = "failed"
TOO_SHORT = "too_short"
ERROR_LABELS = {
    NOT_CONVERGED: _("the model did not converge"),
    FAILED: _("the model could not be fitted"),
    TOO_SHORT: _("the history is too short for it"),
}
