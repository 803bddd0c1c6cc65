"""Background tasks of leads. They take ids (or nothing) and call the services."""

from __future__ import annotations

from celery import shared_task

from crm.core import context
from crm.core.choices import ChangeSource

from . import assignment


@shared_task(name="sales.leads_reassign_untouched_task", acks_late=True)
def leads_reassign_untouched_task() -> int:
    """Pass on the new leads nobody worked in time (run every 15 minutes by the beat scheduler)."""
    with context.change_context(source=ChangeSource.TASK):
        return assignment.reassign_untouched()
