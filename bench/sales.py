"""Benchmark data of the sales module: one pipeline with 20,000 open deals (the board's target is
stated for that many) and 20,000 deals closed over two years, spread over the generated users and
companies."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.generate import SEED, USER_PREFIX, WORDS, generator, insert_rows

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

OPEN_DEALS = 20_000
CLOSED_DEALS = 20_000
STAGES = (
    ("Qualification", 10, "open"),
    ("Needs analysis", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
)


@generator("deals", rows=lambda size: OPEN_DEALS + CLOSED_DEALS)
def deals(count: int, connection: BaseDatabaseWrapper) -> int:
    from crm.accounts.models import User
    from crm.customers.models import Company
    from crm.sales.models import Deal, Pipeline, Stage

    rnd = random.Random(SEED + 7)
    pipeline = Pipeline.objects.create(name="Bench pipeline", is_default=True)
    stages = [
        Stage.objects.create(pipeline=pipeline, name=name, order=order, probability=probability, kind=kind)
        for order, (name, probability, kind) in enumerate(STAGES)
    ]
    open_stages = [s for s in stages if s.kind == "open"]
    won, lost = stages[4], stages[5]
    owners = list(User.objects.filter(username__startswith=USER_PREFIX).values_list("pk", flat=True)[:200]) or [None]
    company_ids: list[int | None] = [*Company.objects.order_by("pk").values_list("pk", flat=True)[:50_000]] or [None]
    today = date.today()
    now = datetime.now(UTC)
    open_count = min(OPEN_DEALS, count)

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(count):
            is_open = n < open_count
            stage = rnd.choice(open_stages) if is_open else (won if rnd.random() < 0.45 else lost)
            status = "open" if is_open else stage.kind
            created = now - timedelta(days=rnd.randint(1, 730))
            closed = None if is_open else (created + timedelta(days=rnd.randint(10, 120))).date()
            if closed and closed > today:
                closed = today
            yield (
                f"{rnd.choice(WORDS).title()} deal {n:06d}",
                pipeline.pk,
                stage.pk,
                status,
                round(rnd.lognormvariate(9.4, 0.6), 2),
                "USD",
                stage.probability,
                today + timedelta(days=rnd.randint(-30, 180)) if is_open else closed,
                closed,
                rnd.choice(company_ids),
                rnd.choice(owners),
                n,
                created,
                created + timedelta(days=rnd.randint(0, 60)),
            )

    fields = [
        "name",
        "pipeline",
        "stage",
        "status",
        "amount",
        "currency",
        "probability",
        "expected_close_date",
        "closed_on",
        "company",
        "owner",
        "rank",
        "stage_entered_at",
        "last_activity_at",
    ]
    return insert_rows(connection, Deal, fields, rows())
