"""Demo data of pipelines and deals: two years of history with a trend and a seasonal swing (busy
year-ends, quiet summers), so the board, the reports and the forecast have something to show."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from crm.accounts.models import User
from crm.core import money
from crm.customers.models import Company, Contact

from ..choices import DealStatus, LeadSource, StageKind
from ..models import Competitor, Deal, DealContact, DealStageChange, LossReason, Pipeline, Stage

MONTHS = 36
SALES_STAGES = (
    ("Qualification", 10, StageKind.OPEN),
    ("Needs analysis", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
)
RENEWAL_STAGES = (
    ("Up for renewal", 60, StageKind.OPEN),
    ("Terms agreed", 90, StageKind.OPEN),
    ("Renewed", 100, StageKind.WON),
    ("Churned", 0, StageKind.LOST),
)
LOSS_REASONS = ["Price too high", "Missing features", "Bad timing", "No budget", "No decision", "Chose a competitor"]
COMPETITORS = ["Salesforce", "HubSpot", "Zoho", "Pipedrive"]
PRODUCTS = ["Platform licence", "Support plan", "Onboarding", "Integration project", "Training", "Analytics add-on"]
SOURCES = [LeadSource.REFERRAL, LeadSource.WEBSITE, LeadSource.EVENT, LeadSource.PARTNER, LeadSource.COLD_CALL]


def _seasonal(month_index: int, month: int) -> float:
    """Deals started in a month: a steady growth, a year-end peak and a summer dip."""
    trend = 1 + month_index * 0.025
    season = 1 + 0.35 * math.cos((month - 11.5) / 12 * 2 * math.pi)
    return 20 * trend * season


def _pipeline() -> Pipeline:
    sales = Pipeline.objects.create(name="Sales", is_default=True, order=1)
    for order, (name, probability, kind) in enumerate(SALES_STAGES):
        Stage.objects.create(pipeline=sales, name=name, order=order, probability=probability, kind=kind)
    renewals = Pipeline.objects.create(name="Renewals", order=2)
    for order, (name, probability, kind) in enumerate(RENEWAL_STAGES):
        Stage.objects.create(pipeline=renewals, name=name, order=order, probability=probability, kind=kind)
    return sales


def build(*, stdout: Any = None) -> None:
    if Pipeline.objects.exists():
        return
    rng = random.Random(4242)
    pipeline = _pipeline()
    reasons = [LossReason.objects.create(name=name) for name in LOSS_REASONS]
    competitors = [Competitor.objects.create(name=name) for name in COMPETITORS]
    owners = list(User.objects.filter(role__builtin__in=["sales_rep", "sales_manager"]).order_by("pk"))
    companies = list(Company.objects.order_by("pk").only("id", "name", "owner_id", "team_id")[:300])
    if not owners or not companies:
        return
    teams = {user.pk: user.teams.first() for user in owners}
    stages = list(pipeline.stages.order_by("order"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    today = timezone.localdate()
    start = (today.replace(day=1) - dt.timedelta(days=MONTHS * 30)).replace(day=1)
    currencies = [money.base_currency()] * 8 + ["EUR", "CNY"]
    deals: list[Deal] = []
    plans: list[tuple[Deal, list[Stage], dt.datetime, dt.date | None]] = []
    month = start
    index = 0
    while month <= today:
        for _number in range(round(_seasonal(index, month.month) * rng.uniform(0.85, 1.15))):
            created = timezone.make_aware(
                dt.datetime.combine(month + dt.timedelta(days=rng.randrange(28)), dt.time(9 + rng.randrange(8)))
            )
            if created.date() > today:
                continue
            owner = rng.choice(owners)
            company = rng.choice(companies)
            currency = rng.choice(currencies)
            amount = Decimal(str(round(rng.lognormvariate(9.4, 0.6), -2))).quantize(Decimal("0.01"))
            if currency == "CNY":
                amount *= 7
            cycle = rng.randint(20, 110)
            closes = created.date() + dt.timedelta(days=cycle)
            outcome = "open"
            if closes <= today:
                outcome = "won" if rng.random() < 0.42 else "lost"
            reached = rng.randint(1, len(open_stages)) if outcome != "won" else len(open_stages)
            path = open_stages[:reached] + ([won] if outcome == "won" else [lost] if outcome == "lost" else [])
            final = path[-1]
            deal = Deal(
                name=f"{company.name} – {rng.choice(PRODUCTS)}",
                pipeline=pipeline,
                stage=final,
                status={"open": DealStatus.OPEN, "won": DealStatus.WON, "lost": DealStatus.LOST}[outcome],
                amount=amount,
                currency=currency,
                probability=final.probability,
                expected_close_date=closes,
                closed_on=closes if outcome != "open" else None,
                company=company,
                owner=owner,
                team=teams.get(owner.pk),
                source=rng.choice(SOURCES),
                next_step=""
                if outcome != "open"
                else rng.choice(["Send proposal", "Demo with IT", "Call the CFO", ""]),
                loss_reason=rng.choice(reasons) if outcome == "lost" else None,
                lost_to=rng.choice(competitors) if outcome == "lost" and rng.random() < 0.6 else None,
                rank=len(deals),
            )
            deals.append(deal)
            plans.append((deal, path, created, closes if outcome != "open" else None))
        month = (month + dt.timedelta(days=32)).replace(day=1)
        index += 1
    Deal.objects.bulk_create(deals, batch_size=500)
    changes: list[DealStageChange] = []
    now = timezone.now()
    for deal, path, created, closed in plans:
        end = timezone.make_aware(dt.datetime.combine(closed, dt.time(16))) if closed else now
        span = max((end - created).total_seconds(), 3600)
        previous = None
        for step, stage in enumerate(path):
            when = created + dt.timedelta(seconds=span * step / max(len(path), 1))
            changes.append(
                DealStageChange(deal=deal, from_stage=previous, to_stage=stage, changed_at=when, amount=deal.amount)
            )
            previous = stage
        last_move = changes[-1].changed_at
        stale = deal.status == DealStatus.OPEN and rng.random() < 0.2
        worked = last_move
        if deal.status == DealStatus.OPEN and not stale:
            worked = max(last_move, now - dt.timedelta(days=rng.randint(0, 10)))
        # Bookkeeping of the generated history (the creation itself is journaled): a plain update.
        models.QuerySet.update(
            Deal.objects.filter(pk=deal.pk),
            created_at=created,
            stage_entered_at=last_move,
            last_activity_at=min(last_move, now - dt.timedelta(days=40)) if stale else worked,
        )
    DealStageChange.objects.bulk_create(changes, batch_size=1000)
    _contacts(deals, rng)
    if stdout is not None:
        stdout.write(f"  {len(deals)} deals over {MONTHS} months in two pipelines")


def _contacts(deals: list[Deal], rng: random.Random) -> None:
    by_company: dict[int, list[int]] = {}
    rows: QuerySet[Any] = Contact.objects.filter(company_id__in={d.company_id for d in deals}).values_list(
        "company_id", "pk"
    )
    for company_id, pk in rows:
        by_company.setdefault(company_id, []).append(pk)
    links = []
    for deal in deals:
        people = by_company.get(deal.company_id or 0, [])
        for pk in rng.sample(people, k=min(len(people), rng.randint(1, 2))):
            links.append(
                DealContact(deal=deal, contact_id=pk, role=rng.choice(["Decision maker", "Champion", "User", ""]))
            )
    DealContact.objects.bulk_create(links, batch_size=1000)
