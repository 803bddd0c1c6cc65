"""``manage.py verify_audit_log``: seal the entries written since the last seal, then walk the audit
chain from the first entry and report the first broken link (exit status 1), or the head of the
chain (sequence and hash) to keep somewhere else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.core.security import audit_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits with status 1 at the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="Check only, without sealing new entries first.")
        parser.add_argument("--all", action="store_true", help="Report every broken link, not only the first.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            sealed = audit_chain.seal(wait=True)
            if sealed.sealed:
                self.stdout.write(f"Sealed {sealed.sealed} new entries.")
        result = audit_chain.verify(stop_at_first=not options["all"])
        self.stdout.write(f"Checked {result.checked} sealed entries up to #{result.head_id}.")
        if result.erased:
            self.stdout.write(
                f"{result.erased} entries had their values erased at a person's request: their place in the "
                "chain is checked, their former contents cannot be."
            )
        if result.unsealed:
            self.stdout.write(f"{result.unsealed} newer entries are not sealed yet.")
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(problem.message)
            raise CommandError("The audit log chain is broken.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"The chain is intact. Head: #{result.head_id} {result.head_hash}"))
