"""Measure backups: ``python -m crm.dataprotection.backup.bench --contacts 100000 [--database-url URL]``.

On a new database (a temporary SQLite file, or the PostgreSQL database ``--database-url`` names: its
name must contain ``bench``, as it is dropped and created again) it loads the benchmark suite's data
(``bench.generate``: ``--contacts`` contacts with an email and a phone row each, a fifth as many
companies, their activities, as many journal entries, users, deals) and measures:

- a full backup (snapshot, compression, encryption, stored in a local folder);
- a restore of it into another new database of the same engine (decrypt, check, migrate, load in one
  transaction, rebuild indexes and foreign keys, compare every table with the manifest);
- an incremental backup after 1,000 changes of contacts through the service the pages use, its size
  against the size of those contacts' rows in the full backup.

Targets at 1,000,000 contacts on PostgreSQL: full < 2 min, restore < 4 min, incremental < 5 s and
within a small factor of the changed rows' size. It prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHANGES = 1_000


def _database(url: str) -> Any:
    from bench.database import Database

    return Database.from_url(url)


def _figures(contacts: int, folder: Path, url: str, restore_url: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import load_all
    from crm.accounts.models import User
    from crm.core import context
    from crm.core.choices import ChangeSource
    from crm.customers import services as customer_services
    from crm.customers.models import Contact

    from . import crypto, engine, restore, services

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    os.environ.setdefault("BENCH_PASSWORD", "bench-backup-password")
    loaded = load_all(contacts, connection)
    generated = time.perf_counter() - started
    rows = {t: int(n) for t, n in loaded["rows"].items()}

    secret, public = crypto.generate()
    key = folder / "key.txt"
    crypto.write_identity(key, secret, public)
    services.backup_recipient_add(actor=None, name="Bench", public_key=public)

    started = time.perf_counter()
    full = engine.run_backup(requested="full")
    full_seconds = time.perf_counter() - started
    total_rows = sum(t["rows"] for t in full.manifest["tables"].values())
    contact_rows = full.manifest["tables"]["customers_contact"]["rows"]

    started = time.perf_counter()
    result = restore.restore(
        restore.local_sources([Path(full.destination) / full.file_name]),
        crypto.read_identities(key),
        database_url=restore_url,
        write_files=False,
    )
    restore_seconds = time.perf_counter() - started

    boss = User.objects.filter(is_superuser=True).first() or User.objects.create(
        username="bench-backup-admin", is_superuser=True
    )
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    chosen = random.Random(1).sample(ids, min(CHANGES, len(ids)))
    started = time.perf_counter()
    with context.change_context(actor=boss, source=ChangeSource.COMMAND):
        for pk in chosen:
            contact = Contact.objects.get(pk=pk)
            customer_services.contact_update(
                actor=boss, contact=contact, data={"title": "Changed for the benchmark"}, version=contact.version
            )
    changes_seconds = time.perf_counter() - started
    # Past the safety window: the incremental holds what changed, not what the full's window re-reads.
    from django.conf import settings

    settings.CRM_BACKUP_SAFETY_WINDOW_SECONDS = 1
    time.sleep(1.5)
    started = time.perf_counter()
    incremental = engine.run_backup(requested="incremental")
    incremental_seconds = time.perf_counter() - started
    changed_rows = sum(t["rows"] + t.get("gone", 0) for t in incremental.manifest["tables"].values())
    per_row = (full.size or 0) / max(1, total_rows)
    return {
        "engine": connection.vendor,
        "data": {"rows_generated": rows, "rows_in_full_backup": total_rows, "contacts": contact_rows},
        "generate_seconds": round(generated, 1),
        "full_backup": {
            "seconds": round(full_seconds, 1),
            "bytes": full.size,
            "rows_per_second": round(total_rows / full_seconds),
        },
        "restore": {
            "seconds": round(restore_seconds, 1),
            "rows": result["rows"],
            "rows_per_second": round(result["rows"] / restore_seconds),
        },
        "incremental_after_changes": {
            "changes": len(chosen),
            "changes_seconds": round(changes_seconds, 1),
            "seconds": round(incremental_seconds, 2),
            "bytes": incremental.size,
            "kind": incremental.kind,
            "rows": changed_rows,
            "rows_by_table": {n: t["rows"] for n, t in incremental.manifest["tables"].items() if t["rows"]},
            "bytes_per_change": round((incremental.size or 0) / max(1, len(chosen))),
            # The incremental against the same number of rows in the full backup (at its average row size).
            "size_factor_vs_the_same_rows_in_the_full": round(
                (incremental.size or 0) / max(1.0, per_row * changed_rows), 2
            ),
        },
        "targets_at_1m_contacts_postgresql": {"full_seconds": 120, "restore_seconds": 240, "incremental_seconds": 5},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.dataprotection.backup.bench", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL database to recreate; name must contain 'bench'")
    args = parser.parse_args(argv)
    if not 100 <= args.contacts <= 10_000_000:
        parser.error("--contacts 100..10000000")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = args.database_url or f"sqlite:///{folder}/bench_backup.sqlite3"
        restore_url = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1].replace("bench", "bench_restored", 1)
        if args.database_url and not url.startswith(("postgres://", "postgresql://")):
            parser.error("--database-url names a PostgreSQL database (SQLite is the default)")
        try:
            source, target = _database(url), _database(restore_url)
        except ValueError as exc:
            parser.error(str(exc))
        source.recreate()
        target.recreate()
        keys = folder / "field-keys.json"
        from crm.core.crypto import keyfile

        keyfile.create(keys)
        os.environ.update(
            {
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "CRM_LOCAL_DIR": str(folder),
                "CRM_KEY_FILE": str(keys),
                "MEDIA_ROOT": str(folder / "media"),
                "CRM_BACKUP_DIR": str(folder / "backups"),
                "CRM_BACKUP_WORK_DIR": str(folder / "work"),
                "DB_STATEMENT_TIMEOUT_MS": "0",
            }
        )
        try:
            figures = _figures(args.contacts, folder, url, restore_url)
        finally:
            if args.database_url:
                target.recreate()
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
