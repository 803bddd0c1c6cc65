"""Demo data of activities: a few notes, calls, meetings and emails, and tasks, for some contacts."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from ..choices import ActivityDirection, ActivityKind, CallOutcome, TaskPriority, TaskStatus
from ..models import Activity, Contact, Task

CONTACTS = 400
NOTES = [
    "Interested in the **premium plan**; wants a quote by Friday.",
    "Asked about delivery times to Shanghai.",
    "Budget approved for Q3. Next step: technical demo.",
    "客户希望下周安排产品演示。",
    "Prefers email over phone calls.",
]
SUBJECTS = ["Follow-up", "Quote", "Product demo", "Contract renewal", "Introduction", "报价跟进"]
TASKS = ["Send the quote", "Call back", "Prepare the demo", "Check the contract", "发送产品资料"]


def build(*, stdout: Any = None) -> None:
    if Activity.objects.exists():
        return
    rng = random.Random(2027)
    contacts = list(Contact.objects.filter(owner__isnull=False).select_related("owner").order_by("pk")[: CONTACTS * 3])
    if not contacts:
        return
    now = timezone.now()
    activities: list[Activity] = []
    tasks: list[Task] = []
    for contact in rng.sample(contacts, k=min(CONTACTS, len(contacts))):
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(ActivityKind.values)
            when = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 600))
            activity = Activity(
                kind=kind,
                contact=contact,
                company_id=contact.company_id,
                owner=contact.owner,
                team_id=contact.team_id,
                occurred_at=when,
                body=rng.choice(NOTES),
            )
            if kind == ActivityKind.CALL:
                activity.direction = rng.choice(ActivityDirection.values)
                activity.duration = rng.randint(1, 45) * 60
                activity.outcome = rng.choice(CallOutcome.values)
            elif kind == ActivityKind.MEETING:
                when = now + timedelta(days=rng.randint(-60, 30), hours=rng.randint(0, 8))
                activity.subject = rng.choice(SUBJECTS)
                activity.starts_at = activity.occurred_at = when
                activity.ends_at = when + timedelta(minutes=rng.choice([30, 45, 60, 90]))
                activity.location = rng.choice(["Video call", "Their office", "我们的办公室"])
            elif kind == ActivityKind.EMAIL:
                activity.subject = rng.choice(SUBJECTS)
                activity.direction = rng.choice(ActivityDirection.values)
            activities.append(activity)
        if rng.random() < 0.6:
            due = now + timedelta(days=rng.randint(-5, 20), hours=rng.randint(0, 8))
            done = due < now and rng.random() < 0.5
            tasks.append(
                Task(
                    title=rng.choice(TASKS),
                    due_at=due,
                    priority=rng.choice(TaskPriority.values),
                    status=TaskStatus.DONE if done else TaskStatus.OPEN,
                    completed_at=due if done else None,
                    assignee=contact.owner,
                    owner=contact.owner,
                    team_id=contact.team_id,
                    contact=contact,
                    reminder_at=due - timedelta(hours=1),
                    reminded_at=due - timedelta(hours=1) if due - timedelta(hours=1) < now else None,
                )
            )
    activities = Activity.objects.bulk_create(activities, batch_size=500)
    Activity.attendees.through.objects.bulk_create(
        [
            Activity.attendees.through(activity_id=a.pk, user_id=a.owner_id)
            for a in activities
            if a.kind == ActivityKind.MEETING and a.pk is not None
        ],
        batch_size=500,
    )
    Task.objects.bulk_create(tasks, batch_size=500)
    latest: dict[int, Any] = {}
    for a in activities:
        if a.kind != ActivityKind.NOTE and a.occurred_at <= now and a.contact is not None:
            latest[a.contact.pk] = max(latest.get(a.contact.pk, a.occurred_at), a.occurred_at)
    touched = [c for c in contacts if c.pk in latest]
    for contact in touched:
        contact.last_contacted_at = latest[contact.pk]
    Contact.objects.bulk_update(touched, ["last_contacted_at"], batch_size=500)
    if stdout is not None:
        stdout.write(f"  {len(activities)} activities, {len(tasks)} tasks")
