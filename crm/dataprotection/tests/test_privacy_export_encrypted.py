"""A person's privacy export holds their encrypted values in clear: the fields and the journal's copies."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from crm.core.testing import make_user
from crm.customers import services
from crm.dataprotection.exporting import export_bundle

pytestmark = pytest.mark.django_db


def test_the_export_opens_sealed_values_for_the_person(roles):
    owner = make_user(module="customers")
    contact = services.contact_create(
        actor=owner,
        data={
            "first_name": "Ada",
            "street": "221B Baker Street",
            "phones": [{"number": "+442079460958", "kind": "mobile", "is_primary": True}],
            "owner": owner,
        },
    )
    services.contact_update(actor=owner, contact=contact, data={"street": "10 Downing Street"}, version=None)

    payload, _counts = export_bundle(kind="contact", subject_id=contact.pk)

    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        data = json.loads(archive.read("data.json"))
        summary = archive.read("summary.html").decode()
    text = json.dumps(data, ensure_ascii=False)
    assert "enc1:" not in text and "enc1:" not in summary
    assert data["subject"]["record"]["street"] == "10 Downing Street"
    assert "+442079460958" in text
    changes = [entry["changes"] for entry in data["journal"] if "street" in entry["changes"]]
    assert ["221B Baker Street", "10 Downing Street"] in [c["street"] for c in changes]
