"""The global search: grouped by type, scoped to what the user may see, as a page, a fragment and API."""

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_administrator_finds_a_colleague_by_email_fragment(admin_client, roles):
    UserFactory(username="zhang", first_name="Zhang", last_name="Wei", email="zhang.wei@example.com")
    page = admin_client.get(reverse("core:search"), {"q": "zhang.w"})
    assert page.status_code == 200 and "Zhang Wei" in page.content.decode()
    fragment = admin_client.get(reverse("core:search"), {"q": "zhang"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Zhang Wei" in fragment and "<html" not in fragment
    api = admin_client.get("/api/v1/search/", {"q": "zhang"}).json()
    assert [r["title"] for r in api["results"]] == ["Zhang Wei"]


def test_a_role_without_the_module_finds_nothing_of_it(client, roles):
    UserFactory(username="hidden", first_name="Hidden", email="hidden@example.com")
    client.force_login(UserFactory(role=roles["sales_rep"]))
    assert "Hidden" not in client.get(reverse("core:search"), {"q": "hidden"}).content.decode()
    assert client.get("/api/v1/search/", {"q": "hidden"}).json() == {"results": []}


def test_short_queries_and_markup_are_harmless(admin_client):
    assert "at least two characters" in admin_client.get(reverse("core:search"), {"q": "a"}).content.decode()
    body = admin_client.get(reverse("core:search"), {"q": "<script>x</script>"}).content.decode()
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body


def test_api_docs_and_schema_are_served_without_a_cdn(admin_client):
    docs = admin_client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html and "cdn" not in html.lower()
    assert admin_client.get("/api/schema/").status_code == 200
