"""Pages for lists without an exact COUNT(*) over the whole table.

A page fetches ``per_page + 1`` rows to know whether a next page exists. The total is counted only
up to a cap (``COUNT_CAP``): beyond it the page shows "more than N", which stays fast at a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.http import HttpRequest

COUNT_CAP = 10_000


@dataclass
class Page:
    object_list: list[Any]
    number: int
    per_page: int
    has_next: bool
    total: int  # exact when not ``total_capped``
    total_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def paginate(request: HttpRequest, queryset: models.QuerySet[Any], *, per_page: int = 25) -> Page:
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    number = min(number, 100_000)
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    capped_count = queryset.order_by()[: COUNT_CAP + 1].count()
    return Page(
        object_list=rows,
        number=number,
        per_page=per_page,
        has_next=has_next,
        total=min(capped_count, COUNT_CAP),
        total_capped=capped_count > COUNT_CAP,
    )


# --- keyset pages: as fast on the millionth row as on the first ------------------------------------


@dataclass
class KeysetPage:
    object_list: list[Any]
    per_page: int
    next_cursor: str | None  # older rows (further along the ordering)
    previous_cursor: str | None  # newer rows
    total: int
    total_capped: bool

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def _encode(values: list[Any]) -> str:
    import base64
    import json

    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, model: type[models.Model], names: list[str]) -> list[Any] | None:
    import base64
    import binascii
    import json

    from django.core.exceptions import ValidationError

    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(names):
            return None
        fields: list[Any] = [model._meta.get_field(name) for name in names]
        return [field.to_python(value) for field, value in zip(fields, raw, strict=True)]
    except (ValueError, TypeError, binascii.Error, ValidationError, UnicodeDecodeError):
        return None


def _beyond(names: list[str], values: list[Any], descending: bool) -> Q:
    """Rows strictly after ``values`` in the ordering (a lexicographic comparison, index-friendly)."""
    op = "lt" if descending else "gt"
    condition = Q()
    for index, name in enumerate(names):
        step = Q(**{f"{name}__{op}": values[index]})
        for prior, prior_name in enumerate(names[:index]):
            step &= Q(**{prior_name: values[prior]})
        condition |= step
    if values and values[0] is not None:
        # The same bound on the first column alone lets the database start the index scan at the
        # cursor instead of filtering every row before it (page 1,000 as cheap as page 1).
        condition = Q(**{f"{names[0]}__{op}e": values[0]}) & condition
    return condition


def keyset_paginate(
    request: HttpRequest, queryset: models.QuerySet[Any], *, ordering: tuple[str, ...] = ("-id",), per_page: int = 25
) -> KeysetPage:
    """Pages by position (``?after=<cursor>`` / ``?before=<cursor>``) instead of OFFSET.

    ``ordering`` is all descending or all ascending and ends with a unique field (``id``).
    An unreadable cursor shows the first page.
    """
    descending = ordering[0].startswith("-")
    names = [field.lstrip("-") for field in ordering]
    reverse_ordering = tuple(name if descending else f"-{name}" for name in names)
    after = _decode(request.GET.get("after", ""), queryset.model, names) if request.GET.get("after") else None
    before = _decode(request.GET.get("before", ""), queryset.model, names) if request.GET.get("before") else None

    if before is not None:
        rows = list(queryset.filter(_beyond(names, before, not descending)).order_by(*reverse_ordering)[: per_page + 1])
        more_before = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        has_previous, has_next = more_before, True
    else:
        page_qs = queryset.filter(_beyond(names, after, descending)) if after is not None else queryset
        rows = list(page_qs.order_by(*ordering)[: per_page + 1])
        has_next = len(rows) > per_page
        rows = rows[:per_page]
        has_previous = after is not None

    def cursor(row: Any) -> str:
        return _encode([getattr(row, name) for name in names])

    capped_count = queryset.order_by()[: COUNT_CAP + 1].count()
    return KeysetPage(
        object_list=rows,
        per_page=per_page,
        next_cursor=cursor(rows[-1]) if rows and has_next else None,
        previous_cursor=cursor(rows[0]) if rows and has_previous else None,
        total=min(capped_count, COUNT_CAP),
        total_capped=capped_count > COUNT_CAP,
    )
