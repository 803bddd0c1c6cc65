"""Pages of products, price books, exchange rates and quotes."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse


def deal_url(deal: Any) -> str:
    """The deal's page, or the empty string where the deal pages are not installed."""
    try:
        return reverse("sales:deal_detail", args=[deal.pk])
    except NoReverseMatch:
        return ""
