from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from ..middleware import has_bad_text

NON_FIELD_ERRORS = "non_field_errors"


def _depth(value: Any, limit: int) -> int:
    """Depth of nested lists/objects, iteratively (no recursion to exhaust)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _field_with_bad_text(data: Any) -> str | None:
    """The top-level key under which a string (value or key) holds a NUL byte or a lone surrogate;
    ``non_field_errors`` when it is a top-level key itself or the body is not an object."""
    if isinstance(data, dict):
        stack = []
        for key, value in data.items():
            if has_bad_text(key):
                return NON_FIELD_ERRORS
            stack.append((value, key))
    else:
        stack = [(data, NON_FIELD_ERRORS)]
    while stack:
        item, field = stack.pop()
        if isinstance(item, str):
            if has_bad_text(item):
                return field
        elif isinstance(item, dict):
            stack.extend((key, field) for key in item)
            stack.extend((value, field) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, field) for value in item)
    return None


class SafeJSONParser(parsers.JSONParser):
    """JSON with a clear 400 for malformed bodies, for nesting deeper than CRM_JSON_MAX_DEPTH, for
    non-JSON numbers such as NaN or a number too large for a float, and for text holding a NUL byte
    or a lone surrogate (which ``\\u0000`` and ``\\ud800`` escapes can smuggle into valid JSON)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = getattr(settings, "CRM_JSON_MAX_DEPTH", 32)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        except RecursionError as exc:  # the decoder stops a pathological nest with a clean error
            raise ParseError(
                _("The JSON body is nested too deeply (at most %(limit)s levels).") % {"limit": limit}
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("Malformed JSON body: %(error)s") % {"error": str(exc)[:200]}) from exc
        if _depth(data, limit) > limit:
            raise ParseError(_("The JSON body is nested too deeply (at most %(limit)s levels).") % {"limit": limit})
        field = _field_with_bad_text(data)
        if field is not None:
            message = _("Text may not contain a NUL byte or an invalid character.")
            raise ValidationError({field: [message]}, code="invalid_characters")
        return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of range")
    return value
