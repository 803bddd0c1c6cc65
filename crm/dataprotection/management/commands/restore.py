"""Restore backups into an empty database (of either engine).

    manage.py restore --identity KEY [FILE ...] [--database-url URL] [--until 2025-01-31T18:00]
                      [--backup UID] [--media-root DIR] [--no-files]

With FILEs: a full backup, then its incrementals in order. Without: the newest chain in the
configured destination (or the chain ending with ``--backup UID``). ``--until`` stops at the last
incremental made at or before that time. The target (``--database-url``, by default the configured
database) must be empty; it is migrated, loaded in one transaction and checked against the
manifests; attached files go to the default storage (or ``--media-root``); people erased since the
backup are erased again (the erasure ledger beside the backups).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm.dataprotection.backup import crypto, destinations, ledger, restore
from crm.dataprotection.backup.engine import current_settings


class Command(BaseCommand):
    help = "Restore a full backup and its incrementals into an empty database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="*", help="A full backup, then its incrementals, in order.")
        parser.add_argument("--identity", help="The private key file (from backup_keygen).")
        parser.add_argument(
            "--database-url", default="", help="The empty target database (default: the configured one)."
        )
        parser.add_argument("--until", help="Point in time (ISO 8601): the last incremental made at or before it.")
        parser.add_argument("--backup", default="", help="Without FILEs: restore the chain ending with this backup.")
        parser.add_argument("--media-root", default="", help="Write attached files into this folder.")
        parser.add_argument("--no-files", action="store_true", help="Do not write attached files.")
        parser.add_argument(
            "--load-prepared", help="(internal) load a checked, decrypted chain into the default database."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["load_prepared"]:
            self._load(Path(options["load_prepared"]), write_files=not options["no_files"])
            return
        if not options["identity"]:
            raise CommandError("--identity is required: the private key file the backups were encrypted to.")
        try:
            identities = crypto.read_identities(Path(options["identity"]).expanduser())
        except (OSError, crypto.KeyError_) as exc:
            raise CommandError(f"The identity file cannot be used: {exc}") from exc
        until = _parse_until(options["until"]) if options["until"] else None
        database_url = options["database_url"] or settings.DATABASE_URL
        folder = restore.scratch_folder()
        try:
            if options["files"]:
                sources = restore.local_sources([Path(f).expanduser() for f in options["files"]])
                entries = ledger.read(destinations.LocalFolder(sources[0].path.parent))
            else:
                destination = destinations.get(current_settings().destination)
                chain = restore.chain_from_destination(destination, uid=options["backup"])
                sources = restore.fetch(destination, chain, folder)
                entries = ledger.read(destination)
            result = restore.restore(
                sources,
                identities,
                database_url=database_url,
                until=until,
                ledger_entries=entries,
                media_root=options["media_root"] or None,
                write_files=not options["no_files"],
                progress=self.progress,
            )
        except (restore.RestoreError, destinations.DestinationError, OSError) as exc:
            raise CommandError(f"Restore refused: {exc}") from exc
        finally:
            restore.cleanup(folder)
        self.stdout.write(
            f"Restored {', '.join(result['backups'])}: {result['rows']} rows in {len(result['tables'])} tables, "
            f"every count and checksum as in the manifests; people erased again: {result.get('erased_again', 0)}."
        )
        files = result.get("files") or {}
        if files.get("missing"):
            self.stdout.write(
                f"Attached files not in the backups (missing when they were made): {len(files['missing'])}"
            )

    def progress(self, percent: int, message: str = "") -> None:
        self.stdout.write(f"[{percent:3d}%] {message}")
        self.stdout.flush()

    def _load(self, folder: Path, *, write_files: bool) -> None:
        def report(percent: int, message: str = "") -> None:
            print(f"{restore.PROGRESS} {int(percent)} {message}", flush=True)

        try:
            result = restore.load(folder, write_files=write_files, progress=report)
        except Exception as exc:
            print(f"{restore.ERROR} {exc}", flush=True)
            sys.exit(1)
        print(f"{restore.RESULT} {json.dumps(result, default=str)}", flush=True)


def _parse_until(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError("--until takes an ISO 8601 time, e.g. 2025-01-31T18:00") from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
