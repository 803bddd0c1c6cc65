"""What deals add to other pages: the customer 360 panel (deals and lifetime revenue), the stage
changes on the customer timeline, and the search results."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.registry import SearchResult
from crm.customers.activities.timeline import Cursor, TimelineItem, after_cursor
from crm.customers.models import Company, Contact

from ..choices import DealStatus
from ..currency import RateBook
from ..models import Deal, DealStageChange
from . import selectors

PANEL_DEALS = 5
STAGE_CHANGE_TEMPLATE = "sales/deals/partials/_timeline_stage_change.html"


def _customer_deals(*, user: Any, obj: Contact | Company) -> QuerySet[Deal]:
    deals = selectors.deal_list(user=user)
    if isinstance(obj, Company):
        return deals.filter(company=obj)
    return deals.filter(contacts=obj)


def customer_deals_context(*, user: Any, obj: Contact | Company) -> dict[str, Any] | None:
    deals = _customer_deals(user=user, obj=obj)
    shown = list(deals.select_related("stage").order_by("status", "-created_at", "-id")[: PANEL_DEALS + 1])
    is_company = isinstance(obj, Company)
    count = len(shown) if len(shown) <= PANEL_DEALS else deals.count()
    create_url = reverse("sales:deal_create") + (f"?company={obj.pk}" if is_company else f"?contact={obj.pk}")
    if not is_company and getattr(obj, "company_id", None):
        create_url += f"&company={obj.company_id}"
    return {
        "deals": shown[:PANEL_DEALS],
        "more": max(0, count - PANEL_DEALS),
        "can_create": access.can(user, "sales", "create"),
        "create_url": create_url,
        "list_url": _list_url(obj),
    }


def _list_url(obj: Contact | Company) -> str:
    return reverse("sales:deal_list") + (f"?company={obj.pk}" if isinstance(obj, Company) else "")


def customer_facts_context(*, user: Any, obj: Contact | Company) -> dict[str, Any] | None:
    """Open deals (how many, how much) and lifetime revenue (won, in the company's currency)."""
    deals = _customer_deals(user=user, obj=obj)
    rates = RateBook()
    open_deals = deals.filter(status=DealStatus.OPEN)
    return {
        "open_count": open_deals.count(),
        "open_total": selectors.amount_in_base(deals=open_deals, rates=rates)[0],
        "lifetime_revenue": selectors.amount_in_base(deals=deals.filter(status=DealStatus.WON), rates=rates)[0],
        "list_url": _list_url(obj) + ("&" if isinstance(obj, Company) else "?") + "status=open",
    }


def fetch_stage_changes(
    *, user: Any, obj: Any, types: set[str], after: Cursor | None, limit: int
) -> list[TimelineItem]:
    if not access.can(user, "sales", "view"):
        return []
    deals = _customer_deals(user=user, obj=obj).values("pk")
    rows = (
        DealStageChange.objects.filter(deal__in=deals)
        .filter(after_cursor(after, source="deal", when_field="changed_at"))
        .select_related("deal", "from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )
    return [TimelineItem(row.changed_at, "deal", row.pk, "deal", STAGE_CHANGE_TEMPLATE, row) for row in rows]


def deal_search(*, user: Any, query: str, limit: int) -> list[SearchResult]:
    query = query.strip()
    if len(query) < 2:
        return []
    condition = Q()
    for word in query.split()[:5]:
        condition &= Q(name__icontains=word)
    deals = (
        selectors.deal_list(user=user)
        .filter(condition)
        .select_related("company", "stage")
        .order_by("-created_at")[:limit]
    )
    return [
        SearchResult(
            type_label=_("Deal"),
            title=deal.name,
            url=deal.get_absolute_url(),
            subtitle=" · ".join(part for part in (deal.company.name if deal.company else "", deal.stage.name) if part),
            score=2.0 if deal.name.lower().startswith(query.lower()) else 1.0,
        )
        for deal in deals
    ]
