import pytest

from crm.core.testing import api_client


@pytest.mark.django_db
def test_probe(admin_user):
    api = api_client(admin_user)
    r = api.post("/api/v1/sample/gadgets/", {"name": "Big", "notes": "x" * 10*1024*1024}, format="json")
    print(r.status_code, r.content[:300])
