from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm.accounts.demo import logins


class Command(BaseCommand):
    help = "Print the demo users and their password."

    def handle(self, *args: Any, **options: Any) -> None:
        for username, password, role in logins():
            self.stdout.write(f"  {username:<10} {password:<20} {role}")
