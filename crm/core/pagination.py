"""Pages for lists without an exact COUNT(*) over the whole table.

A page fetches ``per_page + 1`` rows to know whether a next page exists. The total is counted only
up to a cap (``COUNT_CAP``): beyond it the page shows "more than N", which stays fast at a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
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
