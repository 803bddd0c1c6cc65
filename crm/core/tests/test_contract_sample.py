"""The generic per-model contract, run on the test-only sample model."""

from crm.core.testing import ScopedModelContract
from crm.core.tests.sample.models import Gadget


class TestGadgetContract(ScopedModelContract):
    module = "sample"
    url_namespace = "sample"
    url_model = "gadget"
    api_namespace = "sample:sample-api"

    def make(self, *, owner, team=None):
        return Gadget.objects.create(name="Widget", owner=owner, team=team)

    def form_data(self):
        return {"name": "Renamed", "notes": "<script>alert(1)</script>"}
