"""Rotate the field-encryption keys while the CRM runs.

manage.py rotate_keys --new-key     # add a key, make it the primary one, re-encrypt everything
manage.py rotate_keys               # re-encrypt what is still under an older key (run it again
                                    #  after a rotation that was interrupted)
manage.py rotate_keys --status      # how many stored values each key holds
manage.py rotate_keys --retire k1   # remove a key that holds nothing any more
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm.core import context
from crm.core.choices import ChangeSource
from crm.core.crypto import keyring, rotation


class Command(BaseCommand):
    help = "Add a field-encryption key and re-encrypt stored values under it; show or retire keys."

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--new-key", action="store_true", help="Add a key to the key file and make it primary.")
        group.add_argument("--status", action="store_true", help="Count the stored values of each key.")
        group.add_argument("--retire", metavar="KEY_ID", help="Remove a key that no stored value needs.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with context.change_context(source=ChangeSource.COMMAND):
                self._handle(options)
        except keyring.CryptoError as exc:
            raise CommandError(str(exc)) from None

    def _handle(self, options: dict[str, Any]) -> None:
        if options["status"]:
            ring = keyring.load(force=True)
            counts = rotation.count_by_key()
            for kid in sorted(set(ring.keys) | set(counts), key=lambda k: int(k[1:]) if k[1:].isdigit() else 0):
                mark = " (primary)" if kid == ring.primary else ""
                known = "" if kid in ring.keys else "  NOT IN THE KEY FILE"
                self.stdout.write(f"{kid}{mark}: {counts.get(kid, 0)} values{known}")
            return
        if options["retire"]:
            rotation.retire_key(options["retire"])
            self.stdout.write(self.style.SUCCESS(f"Key {options['retire']} retired."))
            return
        if options["new_key"]:
            kid = rotation.add_primary_key()
            self.stdout.write(f"Added key {kid}; it is the primary key now. Re-encrypting…")
        result = rotation.rotate(progress=self.stdout.write)
        total = sum(result.rewritten.values())
        if total:
            # Rewritten ciphertext leaves no journal entry: the next backup must be a full one.
            from crm.dataprotection.backup.engine import require_full

            require_full("keys rotated")
        self.stdout.write(
            self.style.SUCCESS(f"{total} values re-encrypted under {result.primary}.")
            + " Check with --status, then retire the old key with --retire."
        )
