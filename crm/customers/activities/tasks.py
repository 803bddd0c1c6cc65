"""Background tasks of activities. They take ids (or nothing) and call the services."""

from __future__ import annotations

from celery import shared_task

from crm.core import context
from crm.core.choices import ChangeSource

from . import services


@shared_task(name="customers.task_reminders_send_task", acks_late=True)
def task_reminders_send_task() -> int:
    """Send the task reminders that are due (run every minute by the beat scheduler)."""
    with context.change_context(source=ChangeSource.TASK):
        return services.task_reminders_send()
