"""The platform's promises (permissions, scopes, stale edits, journal) hold for deals."""

from __future__ import annotations

from typing import Any

from crm.core.testing import ScopedModelContract
from crm.sales.models import Deal, Pipeline

from .factories import make_deal, make_pipeline


class TestDealContract(ScopedModelContract):
    module = "sales"
    url_namespace = "sales"
    url_model = "deal"
    api_namespace = "sales-api"

    def pipeline(self) -> Pipeline:
        return Pipeline.objects.filter(is_default=True).first() or make_pipeline()

    def make(self, *, owner: Any, team: Any = None) -> Deal:
        return make_deal(pipeline=self.pipeline(), owner=owner, team=team, name="Big order")

    def form_data(self) -> dict[str, Any]:
        pipeline = self.pipeline()
        return {
            "name": "Renewal <script>alert(1)</script>",
            "pipeline": pipeline.pk,
            "stage": pipeline.stages.order_by("order").first().pk,
            "amount": "2500.00",
            "currency": "USD",
            "expected_close_date": "2027-03-31",
        }

    def api_data(self) -> dict[str, Any]:
        return {"name": "API deal", "pipeline": self.pipeline().pk, "amount": "1200.50", "currency": "EUR"}
