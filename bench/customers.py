"""Benchmark data of the customers module: companies (a fifth of the data size) and contacts (the data
size), each contact with a primary email and phone. 1,000,000 contacts and 200,000 companies at
``--size 1000000``, as the customer-management targets are stated."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bench.generate import FIRST_NAMES, LAST_NAMES, SEED, USER_PREFIX, generator, insert_rows

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

CHINESE_NAMES = ("王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强", "周杰", "吴婷")
INDUSTRIES = ("Software", "Manufacturing", "Retail", "Logistics", "Healthcare", "Finance", "Education", "Energy")
CITIES = (
    ("Berlin", "DE"),
    ("Shanghai", "CN"),
    ("Boston", "US"),
    ("Shenzhen", "CN"),
    ("Munich", "DE"),
    ("Austin", "US"),
)
STAGES = ("subscriber", "lead", "opportunity", "customer", "churned", "other")


def _owners() -> list[int]:
    from crm.accounts.models import User

    return list(User.objects.filter(username__startswith=USER_PREFIX).values_list("pk", flat=True)) or [None]  # type: ignore[list-item]


@generator("companies", rows=lambda size: max(10, size // 5))
def companies(count: int, connection: BaseDatabaseWrapper) -> int:
    from crm.customers.models import Company

    rnd = random.Random(SEED + 1)
    owners = _owners()

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(1, count + 1):
            city, country = rnd.choice(CITIES)
            yield (
                f"Company {n:07d} {rnd.choice(INDUSTRIES)}",
                rnd.choice(INDUSTRIES),
                f"company{n}.example.com",
                f"https://company{n}.example.com",
                city,
                country,
                rnd.choice(owners),
            )

    fields = ["name", "industry", "domain", "website", "city", "country", "owner"]
    return insert_rows(connection, Company, fields, rows())


@generator("contacts", rows=lambda size: size)
def contacts(count: int, connection: BaseDatabaseWrapper) -> int:
    """Contacts spread over the companies, then one primary email and phone row each."""
    from crm.customers.models import Company, Contact, ContactEmail, ContactPhone

    rnd = random.Random(SEED + 2)
    owners = _owners()
    company_ids: list[int | None] = [*Company.objects.values_list("pk", flat=True)] or [None]
    before = Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(1, count + 1):
            if n % 5 == 0:
                first, last, full = "", "", rnd.choice(CHINESE_NAMES) + str(n)
            else:
                first, last, full = rnd.choice(FIRST_NAMES), f"{rnd.choice(LAST_NAMES)}{n}", ""
            name = full or f"{first} {last}"
            email = f"contact{n}@example.com"
            phone = f"+8613{n:09d}" if n % 2 else f"+1617{n:07d}"
            yield (
                first,
                last,
                full,
                name,
                rnd.choice(company_ids),
                rnd.choice(STAGES),
                email,
                phone,
                rnd.choice(owners),
            )

    fields = ["first_name", "last_name", "full_name", "name", "company", "lifecycle_stage", "email", "phone", "owner"]
    written = insert_rows(connection, Contact, fields, rows())
    # COPY numbers the new rows in order from the sequence: derive each one's email and phone again
    # instead of reading a million rows back.
    first = Contact.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True).first()
    if first is None:
        return written
    insert_rows(
        connection,
        ContactEmail,
        ["contact", "email", "is_primary"],
        ((first + n - 1, f"contact{n}@example.com", True) for n in range(1, written + 1)),
    )
    insert_rows(
        connection,
        ContactPhone,
        ["contact", "number", "is_primary"],
        ((first + n - 1, f"+8613{n:09d}" if n % 2 else f"+1617{n:07d}", True) for n in range(1, written + 1)),
    )
    return written


BUSY_CONTACT_ACTIVITIES = 2_000


@generator("activities", rows=lambda size: BUSY_CONTACT_ACTIVITIES + size // 10)
def activities(count: int, connection: BaseDatabaseWrapper) -> int:
    """2,000 activities on one contact (the busy 360 page), the rest one each on other contacts."""
    from datetime import UTC, datetime, timedelta

    from crm.customers.models import Activity, Contact

    contact_rows = list(
        Contact.objects.order_by("id").values_list("id", "owner_id")[: max(1, count - BUSY_CONTACT_ACTIVITIES + 1)]
    )
    if not contact_rows:
        return 0
    busy = contact_rows[-1]
    now = datetime.now(UTC)
    kinds = ("note", "call", "meeting", "email")

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(count):
            contact_id, owner_id = busy if n < BUSY_CONTACT_ACTIVITIES else contact_rows[n - BUSY_CONTACT_ACTIVITIES]
            kind = kinds[n % 4]
            yield (
                kind,
                f"{kind.title()} {n}",
                "Discussed the renewal and next steps.",
                now - timedelta(hours=n),
                contact_id,
                owner_id,
            )

    fields = ["kind", "subject", "body", "occurred_at", "contact", "owner"]
    return insert_rows(connection, Activity, fields, rows())
