"""The platform's generic promises (permissions, scope, journal, edit conflicts) for leads, through
their pages and the API."""

from __future__ import annotations

from typing import Any

from crm.core.testing import ScopedModelContract
from crm.sales.models import Lead


class TestLeadContract(ScopedModelContract):
    module = "sales"
    url_namespace = "sales"
    url_model = "lead"
    api_namespace = "sales-api"

    def make(self, *, owner: Any, team: Any = None) -> Lead:
        return Lead.objects.create(name="Ada Lovelace", email="ada@example.com", owner=owner, team=team)

    def form_data(self) -> dict[str, Any]:
        return {
            "first_name": "Grace",
            "last_name": "Hopper <script>alert(1)</script>",
            "email": "grace@example.com",
            "phone": "+1 212 555 0100",
            "company_name": "Navy",
            "status": "new",
            "source": "referral",
        }

    def api_data(self) -> dict[str, Any]:
        return {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "source": "event"}
