"""A company's phone number is normalised by the service, so the page and the API store the same."""

import pytest

from crm.core.testing import api_client, make_user
from crm.customers.models import Company

pytestmark = pytest.mark.django_db


def test_api_stores_a_company_phone_in_e164_and_refuses_a_bad_one(roles):
    writer = make_user(module="customers")
    api = api_client(writer)
    created = api.post("/api/v1/companies/", {"name": "Acme", "phone": "+86 21 6888 1234"}, format="json")
    assert created.status_code == 201, created.content
    assert Company.objects.get(pk=created.json()["id"]).phone == "+862168881234"
    refused = api.post("/api/v1/companies/", {"name": "Bad", "phone": "call us"}, format="json")
    assert refused.status_code == 400 and "phone" in refused.json()["errors"]
    assert not Company.objects.filter(name="Bad").exists()


def test_the_company_form_shows_the_services_phone_error(client, roles):
    writer = make_user(module="customers")
    client.force_login(writer)
    response = client.post("/companies/new/", {"name": "Bad", "phone": "call us"})
    assert response.status_code == 400
    assert "not a phone number" in response.content.decode()
    assert not Company.objects.filter(name="Bad").exists()


def test_a_number_of_another_country_without_its_code_gets_a_hint(settings):
    from django.core.exceptions import ValidationError

    from crm.customers.phones import normalize_phone

    settings.CRM_PHONE_REGION = "US"
    with pytest.raises(ValidationError) as caught:
        normalize_phone("13800138001")
    assert "not a valid phone number in United States" in caught.value.messages[0]
    assert "+86 138 0013 8000" in caught.value.messages[0]
    settings.CRM_PHONE_REGION = "CN"
    with pytest.raises(ValidationError) as caught:
        normalize_phone("5550100")
    assert "not a valid phone number in China" in caught.value.messages[0] and "+1 212" in caught.value.messages[0]
    assert normalize_phone("+86 138 0013 8001") == "+8613800138001"
    with pytest.raises(ValidationError) as caught:
        normalize_phone("+1 12")
    assert caught.value.messages == ["“+1 12” is not a valid phone number."]
