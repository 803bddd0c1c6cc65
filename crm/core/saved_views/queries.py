"""A list's query string as a saved view keeps it: only the list's own parameters (its filters and
its sort), no page cursors, no empty values, in a stable order, so that two equal views compare equal."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .registry import PAGE_PARAMS, ListSpec

MAX_QUERY_LENGTH = 2000  # SavedView.query's max_length


def query_pairs(spec: ListSpec | None, raw: str | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of ``raw`` (a query string, with or without "?", or pairs) that the
    list knows (``spec=None``: any but page cursors), without empty values, sorted by name (values of
    one name keep their order)."""
    if isinstance(raw, str):
        text = raw[1:] if raw.startswith("?") else raw
        limit = getattr(settings, "DATA_UPLOAD_MAX_NUMBER_FIELDS", None) or 1000
        pairs = parse_qsl(text, keep_blank_values=False, max_num_fields=None)[:limit]
    else:
        pairs = list(raw)
    known = spec.filter_names() if spec is not None else None
    defaults = set(spec.defaults) if spec is not None else set()
    kept = [
        (name, value.strip())
        for name, value in pairs
        if (name in known if known is not None else name not in PAGE_PARAMS) and value and value.strip()
    ]
    return sorted((pair for pair in kept if pair not in defaults), key=lambda pair: pair[0])


def normalize_query(spec: ListSpec, raw: str | Iterable[tuple[str, str]]) -> str:
    """The query string a saved view of ``spec`` keeps for ``raw`` (unknown parameters dropped)."""
    return urlencode(query_pairs(spec, raw))


def comparable_query(spec: ListSpec, raw: str | Iterable[tuple[str, str]]) -> str:
    """``raw`` in a saved view's order, without page cursors, empty and default values, to tell which
    saved view a list shows (its address holds only the list's own parameters: nothing is looked up)."""
    defaults = set(spec.defaults)
    return urlencode([pair for pair in query_pairs(None, raw) if pair not in defaults])


def clean_query(spec: ListSpec, raw: str) -> str:
    """Like ``normalize_query``, refusing what no list page sends: text with a NUL byte, or a result
    longer than a saved view holds."""
    if "\x00" in raw:
        raise ValidationError({"query": _("The filters contain characters that are not allowed.")})
    if len(raw) > MAX_QUERY_LENGTH * 4:
        raise ValidationError({"query": _("These filters are too long to be saved.")})
    pairs = query_pairs(spec, raw)
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise ValidationError({"query": _("The filters contain characters that are not allowed.")})
    query = urlencode(pairs)
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError({"query": _("These filters are too long to be saved.")})
    return query
