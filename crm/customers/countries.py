"""Countries by their names in the current language (Unicode CLDR data through Babel)."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError
from django.utils import translation

_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


def _locale() -> Locale:
    try:
        return Locale.parse(translation.to_locale(translation.get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def country_name(code: str) -> str:
    """The country's name in the current language (``DE`` -> ``Germany`` / ``德国``)."""
    return str(_locale().territories.get(code.upper(), code)) if code else ""


def country_choices() -> list[tuple[str, str]]:
    """Every country, by name in the current language, after an empty choice."""
    return [("", "—"), *_countries(translation.get_language() or "en")]


@lru_cache(maxsize=8)
def _countries(language: str) -> list[tuple[str, str]]:
    names = _locale().territories
    found = [(code, str(name)) for code, name in names.items() if len(code) == 2 and code.isalpha()]
    return sorted((c for c in found if c[0] not in _NOT_COUNTRIES), key=lambda item: item[1])
