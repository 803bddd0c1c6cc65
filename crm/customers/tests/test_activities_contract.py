"""The platform's generic promises (permissions, scope, journal, edit conflicts) for activities and
tasks, through their pages and the API."""

from __future__ import annotations

from typing import Any

from crm.core.testing import ScopedModelContract
from crm.customers.models import Activity, Contact, Task


class TestActivityContract(ScopedModelContract):
    module = "customers"
    url_namespace = "customers"
    url_model = "activity"
    api_namespace = "customers-api"

    def make(self, *, owner: Any, team: Any = None) -> Activity:
        contact = Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=owner, team=team)
        return Activity.objects.create(kind="call", contact=contact, owner=owner, team=team, direction="outbound")

    def form_data(self) -> dict[str, Any]:
        contact = Contact.objects.create(first_name="Grace", last_name="Hopper")
        return {
            "kind": "call",
            "contact": contact.pk,
            "direction": "inbound",
            "outcome": "connected",
            "duration_minutes": "5",
            "body": "Asked for a quote <script>alert(1)</script>",
        }

    def api_data(self) -> dict[str, Any]:
        contact = Contact.objects.create(first_name="Grace", last_name="Hopper")
        return {"kind": "call", "contact": contact.pk, "direction": "inbound", "duration": 300}


class TestTaskContract(ScopedModelContract):
    module = "customers"
    url_namespace = "customers"
    url_model = "task"
    api_namespace = "customers-api"

    def make(self, *, owner: Any, team: Any = None) -> Task:
        return Task.objects.create(title="Send the quote", assignee=owner, owner=owner, team=team)

    def form_data(self) -> dict[str, Any]:
        return {"title": "Call back <b>soon</b>", "priority": "high", "due_at": "2030-01-15T09:30", "notes": ""}

    def api_data(self) -> dict[str, Any]:
        return {"title": "Call back", "priority": "high", "due_at": "2030-01-15T09:30:00Z"}
