"""Typed values of custom fields: one cleaner for the services, the forms, the API and the import,
and the ways a value is shown (pages, lists) and written (exports).

A record's ``custom`` JSON holds one entry per field that has a value, under the field's key; a field
without a value has no entry (never ``null`` or ``""``). The canonical JSON form of each kind:

=============  ==============================================================================
kind           stored as
=============  ==============================================================================
text           string, one line, at most 255 characters
long_text      string, at most 10,000 characters
number         JSON number (an integer when whole), at most 15 significant digits
money          JSON number with at most 2 decimal places, less than 10,000,000,000,000
date           ISO date string, ``"2026-03-31"``
boolean        ``true`` / ``false``
choice         string, exactly one of the field's choices
multi_choice   list of strings, each one of the field's choices, in the order of the choices
url            string, an http(s) address, at most 500 characters
email          string, a valid address in lower case
phone          string, E.164 (``"+8613812345678"``), see ``crm.customers.phones``
=============  ==============================================================================

Numbers are JSON numbers, not strings, so that both databases compare and sort them as numbers
(SQLite's ``JSON_EXTRACT`` and PostgreSQL's ``jsonb`` alike); 15 significant digits is what a
double holds exactly, so a value reads back as it was written. ISO dates sort as strings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.middleware import has_bad_text

from ..choices import CustomFieldKind
from ..phones import display_phone, normalize_phone

K = CustomFieldKind

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000
URL_MAX = 500
EMAIL_MAX = 254
MAX_DIGITS = 15
NUMBER_LIMIT = Decimal(10) ** MAX_DIGITS
MONEY_LIMIT = Decimal(10) ** 13  # 13 digits before the point, 2 after
CENTS = Decimal("0.01")
CHOICE_KINDS = (K.CHOICE, K.MULTI_CHOICE)
NUMERIC_KINDS = (K.NUMBER, K.MONEY)
RANGE_KINDS = (K.NUMBER, K.MONEY, K.DATE)
MULTI_SEPARATORS = (";", "；", "\n")  # how several choices are written in a cell or a text box

YES_WORDS = ("yes", "y", "true", "1", "on", "x", "✓", "是", "对", "有")
NO_WORDS = ("no", "n", "false", "0", "off", "否", "不", "无", "没有")
YES = gettext_lazy("Yes")
NO = gettext_lazy("No")


# --- cleaning -----------------------------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """No value: ``None``, an empty or blank string, an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set)):
        return not any(not is_empty(item) for item in value)
    return False


def clean_value(definition: Any, value: Any) -> Any:
    """``value`` (from JSON, a form or a cell of a file) in the canonical form of the field's kind.

    Raises ``ValidationError`` with one clear message when it is not a value of that kind. The caller
    handles empty values (see ``is_empty``).
    """
    kind = definition.kind
    if isinstance(value, str) and has_bad_text(value):
        raise ValidationError(_("This value holds a NUL byte or an invalid character."), code="invalid")
    cleaner = _CLEANERS.get(kind)
    if cleaner is None:
        raise ValidationError(_("This field has an unknown type."), code="invalid")
    return cleaner(definition, value)


def _text(definition: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."), code="invalid_type")
    text = value.strip()
    if "\n" in text or "\r" in text:
        raise ValidationError(_("Enter a single line of text (no line breaks)."), code="invalid")
    if len(text) > TEXT_MAX:
        raise ValidationError(
            _("Enter at most %(limit)d characters (this has %(count)d).") % {"limit": TEXT_MAX, "count": len(text)},
            code="max_length",
        )
    return text


def _long_text(definition: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."), code="invalid_type")
    text = value.strip().replace("\r\n", "\n")
    if len(text) > LONG_TEXT_MAX:
        raise ValidationError(
            _("Enter at most %(limit)d characters (this has %(count)d).")
            % {"limit": LONG_TEXT_MAX, "count": len(text)},
            code="max_length",
        )
    return text


def _decimal(value: Any) -> Decimal:
    """A finite Decimal from a JSON number, a Decimal or a plain decimal text (``-1234.5``)."""
    if isinstance(value, bool):
        raise ValidationError(_("Enter a number, not yes or no."), code="invalid_type")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(_("Enter a finite number."), code="invalid")
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")  # 1,234,567.89: thousands separators
        if not text or len(text) > 40 or not all(ch in "0123456789+-.eE" for ch in text):
            raise ValidationError(_("“%(value)s” is not a number.") % {"value": value.strip()[:40]}, code="invalid")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(
                _("“%(value)s” is not a number.") % {"value": value.strip()[:40]}, code="invalid"
            ) from None
    else:
        raise ValidationError(_("Enter a number."), code="invalid_type")
    if not number.is_finite():
        raise ValidationError(_("Enter a finite number."), code="invalid")
    return number


def _significant_digits(number: Decimal) -> int:
    digits = number.normalize().as_tuple().digits
    return max(len(digits), 1)


def _json_number(number: Decimal) -> int | float:
    normal = number.normalize()
    if normal == normal.to_integral_value():
        return int(normal)
    return float(normal)


def _number(definition: Any, value: Any) -> int | float:
    number = _decimal(value)
    if abs(number) >= NUMBER_LIMIT:
        raise ValidationError(_("This number is too large."), code="invalid")
    if _significant_digits(number) > MAX_DIGITS:
        raise ValidationError(
            _("Enter a number with at most %(digits)d significant digits.") % {"digits": MAX_DIGITS}, code="invalid"
        )
    return _json_number(number)


def _money(definition: Any, value: Any) -> int | float:
    number = _decimal(value)
    if abs(number) >= MONEY_LIMIT:
        raise ValidationError(_("This amount is too large."), code="invalid")
    if number != number.quantize(CENTS):
        raise ValidationError(_("Enter an amount with at most 2 decimal places."), code="invalid")
    return _json_number(number.quantize(CENTS))


def _date(definition: Any, value: Any) -> str:
    if isinstance(value, dt.datetime):
        raise ValidationError(_("Enter a date without a time (YYYY-MM-DD)."), code="invalid_type")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid_type")
    text = unicodedata.normalize("NFKC", value).strip()
    if _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise ValidationError(
        _("“%(value)s” is not a date; write dates as YYYY-MM-DD.") % {"value": text[:40]}, code="invalid"
    )


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GROUPED = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")


def _boolean(definition: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        found = _boolean_words().get(_fold(value))
        if found is not None:
            return found
        raise ValidationError(_("“%(value)s” is neither yes nor no.") % {"value": value.strip()[:40]}, code="invalid")
    raise ValidationError(_("Choose yes or no."), code="invalid_type")


@lru_cache(maxsize=1)
def _boolean_words() -> dict[str, bool]:
    words = {_fold(word): True for word in YES_WORDS}
    words.update({_fold(word): False for word in NO_WORDS})
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.setdefault(_fold(str(YES)), True)
            words.setdefault(_fold(str(NO)), False)
    return words


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _one_choice(definition: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Choose one of the choices (a text)."), code="invalid_type")
    choices = list(definition.choices or [])
    text = value.strip()
    if text in choices:
        return text
    folded = _fold(text)
    for choice in choices:
        if _fold(choice) == folded:
            return str(choice)
    shown = ", ".join(f"“{choice}”" for choice in choices[:10]) + (", …" if len(choices) > 10 else "")
    raise ValidationError(
        _("“%(value)s” is not one of the choices: %(choices)s.") % {"value": text[:60], "choices": shown},
        code="invalid_choice",
    )


def _choice(definition: Any, value: Any) -> str:
    return _one_choice(definition, value)


def _multi_choice(definition: Any, value: Any) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = split_multi(value)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValidationError(_("Send several choices as a list of texts."), code="invalid_type")
    picked = {_one_choice(definition, item) for item in items if not is_empty(item)}
    return [choice for choice in definition.choices or [] if choice in picked]


def split_multi(text: str) -> list[str]:
    """``"a; b"`` (or one per line) -> ``["a", "b"]``."""
    for separator in MULTI_SEPARATORS[1:]:
        text = text.replace(separator, MULTI_SEPARATORS[0])
    return [part.strip() for part in text.split(MULTI_SEPARATORS[0]) if part.strip()]


_URL_VALIDATOR = URLValidator(schemes=["http", "https"])


def _url(definition: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter a web address."), code="invalid_type")
    text = value.strip()
    if "://" not in text:
        text = f"https://{text}"
    if len(text) > URL_MAX:
        raise ValidationError(_("Enter at most %(limit)d characters.") % {"limit": URL_MAX}, code="max_length")
    try:
        _URL_VALIDATOR(text)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not a web address (http or https).") % {"value": value.strip()[:80]}, code="invalid"
        ) from None
    return text


def _email(definition: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter an email address."), code="invalid_type")
    text = value.strip().lower()
    try:
        if len(text) > EMAIL_MAX:
            raise ValidationError("too long")
        validate_email(text)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not a valid email address.") % {"value": value.strip()[:100]}, code="invalid"
        ) from None
    return text


def _phone(definition: Any, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter a phone number as text."), code="invalid_type")
    return normalize_phone(value)


_CLEANERS = {
    K.TEXT: _text,
    K.LONG_TEXT: _long_text,
    K.NUMBER: _number,
    K.MONEY: _money,
    K.DATE: _date,
    K.BOOLEAN: _boolean,
    K.CHOICE: _choice,
    K.MULTI_CHOICE: _multi_choice,
    K.URL: _url,
    K.EMAIL: _email,
    K.PHONE: _phone,
}


def clean_values(
    definitions: Iterable[Any],
    raw: Any,
    *,
    current: Mapping[str, Any] | None = None,
    creating: bool = False,
) -> dict[str, Any]:
    """The record's new ``custom`` JSON: ``current`` with the values in ``raw`` cleaned and merged in.

    ``raw`` maps field keys to values; an empty value (``None``, ``""``, ``[]``) removes the field's
    value. On ``creating``, a field not in ``raw`` gets its default, and a required field left without
    a value is an error. Values in ``current`` of fields that are not given (inactive ones included)
    are kept as they are.

    Raises ``ValidationError`` keyed by field key (``"budget": [...]``), or a plain one when ``raw`` is
    not an object at all; nothing is changed then.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValidationError(_("Send the custom fields as an object of key and value pairs."), code="invalid_type")
    by_key = {definition.key: definition for definition in definitions}
    errors: dict[str, list[str]] = {}
    result = dict(current or {})
    for key, value in raw.items():
        definition = by_key.get(str(key))
        if definition is None:
            errors[str(key)] = [_("There is no custom field with this key.")]
            continue
        if is_empty(value):
            result.pop(definition.key, None)
            if definition.required:
                errors[definition.key] = [_("This field is required.")]
            continue
        try:
            result[definition.key] = clean_value(definition, value)
        except ValidationError as exc:
            errors[definition.key] = list(exc.messages)
    if creating:
        for key, definition in by_key.items():
            if key in raw or key in errors:
                continue
            if definition.default is not None and not is_empty(definition.default):
                # A default that no longer fits (its choice was removed) gives no value.
                with contextlib.suppress(ValidationError):
                    result[key] = clean_value(definition, definition.default)
            if definition.required and key not in result:
                errors[key] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return result


def missing_required(definitions: Iterable[Any], values: Mapping[str, Any]) -> list[Any]:
    """The required fields without a value in ``values``."""
    return [d for d in definitions if d.required and is_empty(values.get(d.key))]


def with_defaults(definitions: Iterable[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with each field that has none given its default (for a new record)."""
    result = dict(values)
    for definition in definitions:
        if definition.key in result or definition.default is None or is_empty(definition.default):
            continue
        try:
            result[definition.key] = clean_value(definition, definition.default)
        except ValidationError:
            continue
    return result


# --- reading values back -------------------------------------------------------------------------------


def as_decimal(definition: Any, value: Any) -> Decimal | None:
    """A stored number or amount as a Decimal (amounts with 2 places)."""
    try:
        number = _decimal(value)
    except ValidationError:
        return None
    if definition.kind == K.MONEY:
        return number.quantize(CENTS)
    return number


def as_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def to_text(definition: Any, value: Any) -> str:
    """A stored value as text a person types (form inputs, defaults, cells): ``"1234.5"``,
    ``"2026-03-31"``, ``"yes"``, ``"a; b"``."""
    if value is None:
        return ""
    kind = definition.kind
    if kind in NUMERIC_KINDS:
        number = as_decimal(definition, value)
        return "" if number is None else format(number, "f")
    if kind == K.BOOLEAN:
        return str(YES) if value is True else str(NO) if value is False else str(value)
    if kind == K.MULTI_CHOICE:
        return "; ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return str(value)


def to_form(definition: Any, value: Any) -> Any:
    """A stored value as a form field's initial value."""
    if value is None:
        return None
    kind = definition.kind
    if kind == K.BOOLEAN:
        return "true" if value is True else "false" if value is False else ""
    if kind == K.MULTI_CHOICE:
        return list(value) if isinstance(value, list) else []
    if kind == K.DATE:
        return as_date(value)
    if kind == K.PHONE:
        return display_phone(str(value))
    return to_text(definition, value)


def to_export(definition: Any, value: Any) -> Any:
    """A stored value as a spreadsheet cell: numbers as numbers, dates as dates, the rest as text."""
    if value is None:
        return ""
    kind = definition.kind
    if kind in NUMERIC_KINDS:
        number = as_decimal(definition, value)
        return "" if number is None else number
    if kind == K.DATE:
        return as_date(value) or str(value)
    return to_text(definition, value)


@dataclass(frozen=True)
class Display:
    """A value ready to show: its text, and a link when it is an address (web, mail, phone)."""

    text: str
    href: str = ""
    multiline: bool = False

    def __str__(self) -> str:
        return self.text

    @property
    def external(self) -> bool:
        return self.href.startswith(("http://", "https://"))


def display(definition: Any, value: Any) -> Display | None:
    """A stored value formatted for a page in the current language; ``None`` when there is none."""
    if is_empty(value):
        return None
    kind = definition.kind
    if kind == K.NUMBER:
        number = as_decimal(definition, value)
        return Display(str(value) if number is None else formats.number_format(number, force_grouping=True))
    if kind == K.MONEY:
        number = as_decimal(definition, value)
        text = str(value) if number is None else formats.number_format(number, decimal_pos=2, force_grouping=True)
        return Display(text)
    if kind == K.DATE:
        day = as_date(value)
        return Display(formats.date_format(day, "DATE_FORMAT") if day else str(value))
    if kind == K.BOOLEAN:
        return Display(str(YES) if value is True else str(NO) if value is False else str(value))
    if kind == K.MULTI_CHOICE:
        return Display(", ".join(str(item) for item in value) if isinstance(value, list) else str(value))
    if kind == K.URL:
        text = str(value)
        return Display(text, href=text if text.startswith(("http://", "https://")) else "")
    if kind == K.EMAIL:
        return Display(str(value), href=f"mailto:{value}")
    if kind == K.PHONE:
        return Display(display_phone(str(value)), href=f"tel:{value}")
    return Display(str(value), multiline=kind == K.LONG_TEXT)


def json_text(value: str, *, vendor: str) -> str:
    """``value`` as it appears inside the JSON text a database gives back for a list: PostgreSQL
    writes non-ASCII characters as they are, SQLite keeps Django's ``\\uXXXX`` escapes."""
    return json.dumps(value, ensure_ascii=vendor != "postgresql")
