"""A body in a format the endpoint does not take is refused as such, not read as an empty body."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.testing import make_user
from crm.customers.models import Tag

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("multipart", [True, False])
def test_a_form_body_to_a_json_endpoint_is_refused_with_415(roles, client, multipart):
    client.force_login(make_user(module="customers"))
    url = reverse("customers-api:tag-list")
    if multipart:
        response = client.post(url, {"name": "VIP"})
    else:
        response = client.post(url, "name=VIP", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_media_type"
    assert not Tag.objects.exists()


def test_json_is_still_taken_and_uploads_still_work_where_they_are_expected(roles, client):
    client.force_login(make_user(module="customers"))
    response = client.post(reverse("customers-api:tag-list"), {"name": "VIP"}, content_type="application/json")
    assert response.status_code == 201, response.content
    upload = client.post(reverse("customers-api:import-list"), {})
    assert upload.status_code == 400 and "file" in upload.json()["errors"]
