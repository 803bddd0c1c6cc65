"""Importing leads: rows streamed from a file, each good row created through ``lead_create`` (so the
assignment rules choose its owner, it is scored, journaled and its owner is told), a batch at a time.

Policies, as the import page states them: good rows are imported; a bad row is left out and listed
with its reasons in a file of rejected rows. Each batch is one transaction that also records how far
the import got, so a job whose worker died carries on after the last saved batch instead of
importing rows twice. Every row is created in its own savepoint: a row the service refuses changes
nothing and the batch goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from crm.core import privacy
from crm.customers.io.importing import SourceRow
from crm.customers.io.importing import run_import as customer_run_import

from .. import services as lead_services
from .cleaning import LeadRowCleaner, describe

# Rows per transaction. A round-robin rule's row stays locked until its batch commits, so batches
# are kept short enough for web forms and people creating leads meanwhile to wait little.
BATCH_SIZE = 100


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    rejected: int = 0
    owners: Counter[int] = field(default_factory=Counter)  # owner id -> leads created for them

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "rejected": self.rejected,
            "owners": {str(pk): count for pk, count in self.owners.items()},
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.created = int(saved.get("created", 0))
        self.owners = Counter({int(pk): int(count) for pk, count in (saved.get("owners") or {}).items()})


class LeadImporter:
    """Imports batches of ``SourceRow`` as leads created by one person."""

    def __init__(self, *, user: Any) -> None:
        self.user = user
        self.cleaner = LeadRowCleaner(user=user)
        self.counts = Counts()

    def import_batch(self, rows: list[SourceRow], *, write: bool = True) -> list[tuple[SourceRow, list[str]]]:
        """Import one batch (in the caller's transaction); the rejected rows and their problems.

        With ``write=False`` the rows are only checked (a batch an earlier run already saved).
        """
        rejected: list[tuple[SourceRow, list[str]]] = []
        for row in rows:
            if not write:
                _data, _lead, problems = self.cleaner.check(row.values)
                problems = row.problems + problems
                if not problems and privacy.is_suppressed(str((_data or {}).get("email") or "")):
                    problems = [privacy.suppressed_message()]
            else:
                data, problems = self.cleaner.data(row.values)
                if problems:  # listed with the service's own objections to the rest of the row
                    _data, _lead, problems = self.cleaner.check(row.values)
                problems = row.problems + problems
                if not problems and privacy.is_suppressed(str(data.get("email") or "")):
                    problems = [privacy.suppressed_message()]
                if not problems:
                    try:
                        # lead_create is atomic: nested here, it is a savepoint that a refusal rolls back.
                        lead = lead_services.lead_create(actor=self.user, data=data)
                    except ValidationError as exc:
                        problems = describe(exc)
                    else:
                        self.counts.created += 1
                        if lead.owner_id is not None:
                            self.counts.owners[lead.owner_id] += 1
            if problems:
                rejected.append((row, problems))
        self.counts.rejected += len(rejected)
        return rejected


def run_import(**kwargs: Any) -> Counts:
    """The contact import's batch loop (checkpoints, resuming, progress), in batches of ``BATCH_SIZE``."""
    counts: Counts = customer_run_import(batch_size=BATCH_SIZE, **kwargs)
    return counts
