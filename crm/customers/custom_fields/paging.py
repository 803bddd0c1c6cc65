"""Keyset pages of a list sorted by a custom field.

``crm.core.pagination.keyset_paginate`` pages by model fields that are never NULL. A custom field's
value is a JSON key transform (``custom ->> 'budget'``) and records without a value have NULL there,
so this pager orders by the value with NULLs last (in either direction), then by id, and writes the
cursor as ``[value, id]``. The page it returns is the same ``KeysetPage`` the list templates show.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.db.models import Expression, F, Q, QuerySet
from django.http import HttpRequest

from crm.core.pagination import COUNT_CAP, KeysetPage

ALIAS = "cf_sort_value"


def _encode(value: Any, pk: int) -> str:
    raw = json.dumps([value, pk], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, *, numeric: bool) -> tuple[Any, int] | None:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    value, pk = raw
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    if value is None:
        return None, pk
    if numeric:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value), pk
    if not isinstance(value, str) or len(value) > 20_000:
        return None
    return value, pk


def _after(value: Any, pk: int, *, descending: bool) -> Q:
    """Rows after (value, pk) in the order: values in the direction, then the rows without one."""
    beyond, ahead = ("lt", "lt") if descending else ("gt", "gt")
    if value is None:
        return Q(**{f"{ALIAS}__isnull": True, f"pk__{ahead}": pk})
    return (
        Q(**{f"{ALIAS}__{beyond}": value}) | Q(**{ALIAS: value, f"pk__{ahead}": pk}) | Q(**{f"{ALIAS}__isnull": True})
    )


def _before(value: Any, pk: int, *, descending: bool) -> Q:
    """Rows before (value, pk) in the order."""
    back = "gt" if descending else "lt"
    if value is None:
        return Q(**{f"{ALIAS}__isnull": False}) | Q(**{f"{ALIAS}__isnull": True, f"pk__{back}": pk})
    return Q(**{f"{ALIAS}__{back}": value}) | Q(**{ALIAS: value, f"pk__{back}": pk})


def keyset_paginate_by_value(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    expression: Expression,
    descending: bool = False,
    numeric: bool = False,
    per_page: int = 25,
) -> KeysetPage:
    """Pages of ``queryset`` ordered by ``expression`` (NULLs last), then id; see the module's text.

    An unreadable cursor shows the first page.
    """
    rows_qs = queryset.annotate(**{ALIAS: expression})
    value = F(ALIAS)
    ordering = (value.desc(nulls_last=True), "-pk") if descending else (value.asc(nulls_last=True), "pk")
    reverse = (value.asc(nulls_first=True), "pk") if descending else (value.desc(nulls_first=True), "-pk")
    after = _decode(request.GET.get("after", ""), numeric=numeric) if request.GET.get("after") else None
    before = _decode(request.GET.get("before", ""), numeric=numeric) if request.GET.get("before") else None

    if before is not None:
        rows = list(rows_qs.filter(_before(*before, descending=descending)).order_by(*reverse)[: per_page + 1])
        more_before = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        has_previous, has_next = more_before, True
    else:
        page_qs = rows_qs.filter(_after(*after, descending=descending)) if after is not None else rows_qs
        rows = list(page_qs.order_by(*ordering)[: per_page + 1])
        has_next = len(rows) > per_page
        rows = rows[:per_page]
        has_previous = after is not None

    def cursor(row: Any) -> str:
        return _encode(getattr(row, ALIAS), row.pk)

    capped_count = queryset.order_by()[: COUNT_CAP + 1].count()
    return KeysetPage(
        object_list=rows,
        per_page=per_page,
        next_cursor=cursor(rows[-1]) if rows and has_next else None,
        previous_cursor=cursor(rows[0]) if rows and has_previous else None,
        total=min(capped_count, COUNT_CAP),
        total_capped=capped_count > COUNT_CAP,
    )
