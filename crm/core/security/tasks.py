"""The worker's sealing of the audit chain (every minute, see CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from . import audit_chain


@shared_task(name="core.audit_seal_task")
def audit_seal_task() -> int:
    """Seal the journal entries written since the last run; skip when another process is sealing."""
    return audit_chain.seal(wait=False).sealed
