"""Build the demo company: every registered demo builder runs in order. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.core import context
from crm.core.choices import ChangeSource
from crm.core.registry import platform


class Command(BaseCommand):
    help = "Fill the CRM with believable demo data (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow demo data with CRM_ENV=production.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            raise CommandError("Refusing to add demo data to a production CRM (use --force if you really mean it).")
        with context.change_context(source=ChangeSource.COMMAND):
            for builder in sorted(platform.demo.values(), key=lambda b: b.order):
                self.stdout.write(f"Demo data: {builder.key}")
                builder.build(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
