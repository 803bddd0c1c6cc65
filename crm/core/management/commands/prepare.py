"""Everything the database and files need before the CRM starts: migrations, cache table,
translations, static files (production) and, when asked, demo data. Safe to run every start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, create the cache table, compile translations, collect static files, optionally load demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true", help="Also build the demo company and print its logins.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("compile_translations", verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        if options["demo"]:
            call_command("demo_data", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Database ready."))
