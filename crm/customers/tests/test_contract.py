"""The platform's generic promises (permissions, scope, journal, edit conflicts), for companies and
contacts, through their pages and the API."""

from __future__ import annotations

from typing import Any

from crm.core.testing import ScopedModelContract
from crm.customers.models import Company, Contact


class TestCompanyContract(ScopedModelContract):
    module = "customers"
    url_namespace = "customers"
    url_model = "company"
    api_namespace = "customers-api"

    def make(self, *, owner: Any, team: Any = None) -> Company:
        return Company.objects.create(name="Acme Ltd", owner=owner, team=team)

    def form_data(self) -> dict[str, Any]:
        return {"name": "Northwind <script>alert(1)</script>", "website": "https://www.northwind.example", "size": ""}

    def api_data(self) -> dict[str, Any]:
        return {"name": "Northwind GmbH", "website": "https://northwind.example"}


class TestContactContract(ScopedModelContract):
    module = "customers"
    url_namespace = "customers"
    url_model = "contact"
    api_namespace = "customers-api"

    def make(self, *, owner: Any, team: Any = None) -> Contact:
        return Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=owner, team=team)

    def form_data(self) -> dict[str, Any]:
        return {
            "first_name": "Grace",
            "last_name": "Hopper",
            "lifecycle_stage": "lead",
            "emails-TOTAL_FORMS": "1",
            "emails-INITIAL_FORMS": "0",
            "emails-0-email": "grace@example.com",
            "emails-0-kind": "work",
            "phones-TOTAL_FORMS": "1",
            "phones-INITIAL_FORMS": "0",
            "phones-0-number": "+1 212 555 0100",
            "phones-0-kind": "mobile",
        }

    def api_data(self) -> dict[str, Any]:
        return {"first_name": "Grace", "last_name": "Hopper", "emails": [{"email": "grace@example.com"}]}
