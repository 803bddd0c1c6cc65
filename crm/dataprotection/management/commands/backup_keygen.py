"""Make a key pair for backups: ``manage.py backup_keygen --out ~/crm-backup-key.txt [--add "Ada"]``.

The private key goes to a new file only its owner can read (mode 600) and should leave the server
(an administrator's password manager, a safe); the public key is printed, and with ``--add`` it is
also made a recipient, which the Backups page otherwise does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.core import context
from crm.core.choices import ChangeSource
from crm.dataprotection.backup import crypto, services


class Command(BaseCommand):
    help = "Make a backup key pair: the private key into a new file (mode 600), the public key printed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True, help="File to write the private key to (must not exist).")
        parser.add_argument("--add", metavar="NAME", help="Also add the public key as a recipient, named NAME.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["out"]).expanduser()
        if path.exists():
            raise CommandError(f"{path} exists already: choose a new file (a private key is never overwritten).")
        secret, public = crypto.generate()
        try:
            crypto.write_identity(path, secret, public)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc}") from exc
        if options["add"]:
            try:
                with context.change_context(source=ChangeSource.COMMAND):
                    services.backup_recipient_add(actor=None, name=options["add"], public_key=public)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Private key written to {path} (mode 600). Keep it off this server.")
        self.stdout.write("Public key (add it on the Backups page if --add was not given):")
        self.stdout.write(public)
