"""What field encryption costs a page: ``python -m crm.core.crypto.bench [--contacts 100000]``.

On a fresh SQLite database in a temporary folder (or the database ``--database-url`` names; its name
must contain ``bench``, as it is written to) it writes ``--contacts`` contacts with a sealed phone
number, street, postal code and date of birth each (and a phone row), then renders the contact list
(first page, 25 rows) and a contact's 360 page with an in-process test client, ``--requests`` times
each, in alternating rounds:

- as the CRM runs: every sensitive value opened (AES-GCM), masking decided, the read audited;
- with opening, masking and the audit replaced by pass-throughs (what the page costs without them).

It prints median and p95 of both and the overhead of encryption in percent of the page's p95, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from typing import Any
from unittest import mock

from crm.core.crypto import keyfile


def generate(count: int) -> Any:
    from django.db import connection

    from bench.generate import insert_rows
    from crm.accounts.models import User
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Contact, ContactPhone

    roles_sync_builtin()
    boss = User.objects.create(username="bench-boss", is_superuser=True, email="boss@bench.example.com")
    rnd = random.Random(7)
    insert_rows(
        connection,
        Contact,
        ["first_name", "last_name", "name", "phone", "street", "postal_code", "date_of_birth", "city", "owner"],
        (
            (
                "Ada",
                f"Person{n}",
                f"Ada Person{n}",
                f"+8613{n:09d}",
                f"{rnd.randint(1, 999)} Harbour Road",
                f"{rnd.randint(10000, 99999)}",
                date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                "Shanghai",
                boss.pk,
            )
            for n in range(1, count + 1)
        ),
    )
    first = Contact.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    insert_rows(
        connection,
        ContactPhone,
        ["contact", "number", "is_primary"],
        ((first + n - 1, f"+8613{n:09d}", True) for n in range(1, count + 1)),
    )
    return boss, Contact.objects.order_by("pk")[count // 2]


@contextmanager
def without_encryption_costs() -> Any:
    """Opening sealed values, masking and the read audit replaced by pass-throughs of the same shape."""
    from django.db import models

    from crm.core.crypto import fields, masking

    def opened(self: Any, stored: str) -> str:
        return "2000-01-01" if isinstance(self, models.DateField) else stored[-14:]

    with (
        mock.patch.object(fields.EncryptedFieldMixin, "open_stored", opened),
        mock.patch.object(masking, "shown", lambda record, value: value),
        mock.patch.object(masking, "flush_reads", lambda token: masking._reads.reset(token)),
    ):
        yield


def measure(client: Any, url: str, rounds: int, per_round: int) -> dict[str, Any]:
    timings: dict[str, list[float]] = {"encrypted": [], "plain": []}
    for _ in range(5):  # warm both paths (templates, URL resolution, caches)
        client.get(url)
        with without_encryption_costs():
            client.get(url)
    for _ in range(rounds):
        for mode in ("encrypted", "plain"):
            for _ in range(per_round):
                if mode == "plain":
                    with without_encryption_costs():
                        started = time.perf_counter()
                        response = client.get(url)
                else:
                    started = time.perf_counter()
                    response = client.get(url)
                timings[mode].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
    result: dict[str, Any] = {}
    for mode, values in timings.items():
        values.sort()
        result[mode] = {
            "median_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[int(len(values) * 0.95) - 1], 1),
        }
    result["overhead_of_p95_percent"] = round(
        100 * (result["encrypted"]["p95_ms"] - result["plain"]["p95_ms"]) / result["plain"]["p95_ms"], 1
    )
    result["within_target"] = result["overhead_of_p95_percent"] < 10
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.core.crypto.bench", description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    if not 100 <= args.contacts <= 5_000_000 or not 20 <= args.requests <= 10_000:
        parser.error("--contacts 100..5000000, --requests 20..10000")
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench_crypto.sqlite3"
        if "bench" not in url.rsplit("/", 1)[-1]:
            parser.error("the database's name must contain 'bench': it is written to")
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")  # loading a million rows is one COPY
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("CRM_LOCAL_DIR", folder)
        if not os.environ.get("CRM_FIELD_KEYS"):  # a new database: new keys, in the scratch folder
            os.environ["CRM_KEY_FILE"] = str(keyfile.create_in(folder))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        settings.ALLOWED_HOSTS = ["testserver"]
        call_command("migrate", verbosity=0)
        if args.database_url:
            call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        boss, contact = generate(args.contacts)
        generated = time.perf_counter() - started
        client = Client()
        client.force_login(boss)
        rounds = 10
        per_round = max(1, args.requests // rounds)
        figures = {
            "database": django.db.connection.vendor,
            "contacts": args.contacts,
            "generated_in_s": round(generated, 1),
            "requests_per_page_and_mode": rounds * per_round,
            "contact_list": measure(client, reverse("customers:contact_list"), rounds, per_round),
            "contact_360": measure(client, contact.get_absolute_url(), rounds, per_round),
        }
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
