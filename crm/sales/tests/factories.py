"""Building blocks for the sales tests: a pipeline with the usual stages, deals, leads, products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from crm.sales.choices import LeadStatus, StageKind
from crm.sales.models import Deal, Lead, Pipeline, PriceBook, PriceBookEntry, Product, Stage

STAGES = (
    ("Qualification", 10, StageKind.OPEN),
    ("Needs analysis", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
)


def make_pipeline(name: str = "Sales", *, is_default: bool = True) -> Pipeline:
    pipeline = Pipeline.objects.create(name=name, is_default=is_default)
    for order, (stage_name, probability, kind) in enumerate(STAGES):
        Stage.objects.create(pipeline=pipeline, name=stage_name, order=order, probability=probability, kind=kind)
    return pipeline


def stage(pipeline: Pipeline, name: str) -> Stage:
    return pipeline.stages.get(name=name)


def make_deal(*, pipeline: Pipeline | None = None, owner: Any = None, **fields: Any) -> Deal:
    """A deal written straight to the table (not through the services): for tests of reads."""
    pipeline = pipeline or Pipeline.objects.filter(is_default=True).first() or make_pipeline()
    first = fields.pop("stage", None) or pipeline.stages.order_by("order").first()
    values: dict[str, Any] = {
        "name": "Deal",
        "amount": Decimal("1000.00"),
        "currency": "USD",
        "probability": first.probability,
        "stage_entered_at": timezone.now(),
    }
    values.update(fields)
    return Deal.objects.create(pipeline=pipeline, stage=first, owner=owner, **values)


def make_lead(*, owner: Any = None, **fields: Any) -> Lead:
    values: dict[str, Any] = {"name": "Lee Lead", "email": "lee@example.com", "status": LeadStatus.NEW}
    values.update(fields)
    return Lead.objects.create(owner=owner, **values)


def make_product(name: str = "Widget", *, code: str = "W-1", price: str = "100.00", currency: str = "USD") -> Product:
    product = Product.objects.create(name=name, code=code)
    book = PriceBook.objects.filter(currency=currency, is_default=True).first() or PriceBook.objects.create(
        name=f"Standard {currency}", currency=currency, is_default=True
    )
    PriceBookEntry.objects.create(price_book=book, product=product, unit_price=Decimal(price))
    return product
