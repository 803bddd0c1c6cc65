"""Back up, or verify the latest backups.

manage.py backup --full               # a full backup now
manage.py backup --incremental        # the changes since the last backup (a full one if needed)
manage.py backup --due                # whatever the schedule says is due (what the worker runs)
manage.py backup --verify [--identity KEY] [--database-url URL]
                                      # check the latest chain; with a private key, restore it into a
                                      # scratch database (a temporary SQLite file by default) and
                                      # compare every table with the manifests
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm.core import context
from crm.core.choices import ChangeSource
from crm.dataprotection.backup import crypto, engine, restore, schedule, verify
from crm.dataprotection.backup.choices import BackupKind


class Command(BaseCommand):
    help = "Make an encrypted full or incremental backup, or verify the latest chain."

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--full", action="store_true", help="A full backup.")
        group.add_argument("--incremental", action="store_true", help="An incremental backup.")
        group.add_argument("--due", action="store_true", help="The backup the schedule says is due, if any.")
        group.add_argument("--verify", action="store_true", help="Verify the latest chain.")
        parser.add_argument("--identity", help="Private key file (--verify): restore the chain and compare.")
        parser.add_argument("--database-url", default="", help="Scratch database for --verify (must be empty).")
        parser.add_argument("--quiet-progress", action="store_true", help="Do not print progress.")

    def progress(self, percent: int, message: str = "") -> None:
        if not self.quiet:
            self.stdout.write(f"[{percent:3d}%] {message}")
            self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        self.quiet = options["quiet_progress"]
        with context.change_context(source=ChangeSource.COMMAND):
            if options["verify"]:
                self._verify(options)
                return
            if options["due"]:
                kind = schedule.due()
                if not kind:
                    self.stdout.write("Nothing is due.")
                    return
            else:
                kind = BackupKind.FULL if options["full"] else BackupKind.INCREMENTAL
            try:
                row = engine.run_backup(requested=kind, progress=self.progress)
            except (engine.BackupBusy, engine.BackupRefused) as exc:
                raise CommandError(str(exc)) from exc
        reason = row.manifest.get("full_reason")
        if kind == BackupKind.INCREMENTAL and row.kind == BackupKind.FULL and reason:
            self.stdout.write(f"A full backup was made instead of an incremental: {reason}.")
        self.stdout.write(
            f"Backup {row.uid} ({row.kind}) complete: {row.file_name}, {row.size} bytes, in {row.destination}"
        )

    def _verify(self, options: dict[str, Any]) -> None:
        try:
            identities = verify.verify_identities(Path(options["identity"]) if options["identity"] else None)
            result = verify.verify_latest(
                identities=identities, database_url=options["database_url"], progress=self.progress
            )
        except (verify.NothingToVerify, restore.RestoreError, crypto.KeyError_, OSError) as exc:
            raise CommandError(f"Verification failed: {exc}") from exc
        self.stdout.write(f"Verified {', '.join(result['backups'])}: {result['message']}")
