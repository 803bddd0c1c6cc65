from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


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


class SafeJSONParser(parsers.JSONParser):
    """JSON with a clear 400 for malformed bodies, for nesting deeper than CRM_JSON_MAX_DEPTH and
    for non-JSON numbers such as NaN."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = getattr(settings, "CRM_JSON_MAX_DEPTH", 32)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
            # A cheap pre-check stops a deep nest before the decoder recurses into it.
            if text.count("[") + text.count("{") > limit and _bracket_depth(text) > limit:
                raise ParseError(_("The JSON body is nested too deeply (at most %(limit)s levels).") % {"limit": limit})
            data = json.loads(text, parse_constant=_reject_constant)
        except ParseError:
            raise
        except (ValueError, RecursionError, UnicodeDecodeError) as exc:
            raise ParseError(_("Malformed JSON body: %(error)s") % {"error": str(exc)[:200]}) from exc
        if _depth(data, limit) > limit:
            raise ParseError(_("The JSON body is nested too deeply (at most %(limit)s levels).") % {"limit": limit})
        return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
