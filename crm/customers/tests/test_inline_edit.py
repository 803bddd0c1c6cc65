"""Inline edit from a list cell: the same service as the edit page, so the same permissions,
validation, stale-edit check and journal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.testing import journal_entries, make_user
from crm.customers import services
from crm.customers.models import Company, Contact

pytestmark = pytest.mark.django_db


def _contact(user, **data):
    return services.contact_create(actor=user, data={"full_name": "Ada Lovelace", "title": "Analyst", **data})


def test_edit_a_title_and_a_stage_from_the_list(roles, client):
    user = make_user(module="customers")
    contact = _contact(user)
    client.force_login(user)
    listing = client.get(reverse("customers:contact_list")).content.decode()
    assert f'hx-get="{reverse("customers:contact_inline", args=[contact.pk, "lifecycle_stage"])}"' in listing
    url = reverse("customers:contact_inline", args=[contact.pk, "title"])
    form = client.get(url).content.decode()
    assert 'name="title"' in form and 'value="Analyst"' in form and f'name="version" value="{contact.version}"' in form

    saved = client.post(url, {"title": "Chief analyst", "version": contact.version})
    assert saved.status_code == 200 and "Chief analyst" in saved.content.decode()
    contact.refresh_from_db()
    assert contact.title == "Chief analyst" and contact.version == 2
    assert journal_entries(contact).last().changes == {"title": ["Analyst", "Chief analyst"]}

    stage_url = reverse("customers:contact_inline", args=[contact.pk, "lifecycle_stage"])
    saved = client.post(stage_url, {"lifecycle_stage": "customer", "version": 2})
    assert saved.status_code == 200 and "crm-stage-customer" in saved.content.decode()
    assert Contact.objects.get().lifecycle_stage == "customer"


def test_a_company_size_from_the_list(roles, client):
    user = make_user(module="customers")
    company = services.company_create(actor=user, data={"name": "Acme"})
    client.force_login(user)
    url = reverse("customers:company_inline", args=[company.pk, "size"])
    saved = client.post(url, {"size": "51-200", "version": company.version})
    assert saved.status_code == 200
    assert Company.objects.get().size == "51-200"


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("lifecycle_stage", "emperor", 422),  # not a choice
        ("title", "x" * 151, 422),  # longer than the field
        ("title", "<script>alert(1)</script>" + "x" * 200, 422),
    ],
)
def test_bad_values_are_refused_in_the_cell_and_nothing_changes(roles, client, field, value, status):
    user = make_user(module="customers")
    contact = _contact(user)
    client.force_login(user)
    response = client.post(reverse("customers:contact_inline", args=[contact.pk, field]), {field: value, "version": 1})
    assert response.status_code == status
    assert "text-danger" in response.content.decode() and "<script>alert" not in response.content.decode()
    fresh = Contact.objects.get()
    assert (fresh.title, fresh.lifecycle_stage, fresh.version) == ("Analyst", contact.lifecycle_stage, 1)


def test_a_stale_edit_shows_the_current_value_and_keeps_it(roles, client):
    user = make_user(module="customers")
    contact = _contact(user)
    services.contact_update(actor=user, contact=contact, data={"title": "CTO"}, version=1)
    client.force_login(user)
    response = client.post(
        reverse("customers:contact_inline", args=[contact.pk, "title"]), {"title": "Intern", "version": 1}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert 'value="CTO"' in body and 'name="version" value="2"' in body
    assert Contact.objects.get().title == "CTO"


def test_fields_that_are_not_inline_editable_and_records_out_of_reach_are_404(roles, client):
    owner = make_user(module="customers")
    contact = _contact(owner)
    client.force_login(owner)
    assert client.get(reverse("customers:contact_inline", args=[contact.pk, "owner"])).status_code == 404
    assert client.get(reverse("customers:contact_inline", args=[contact.pk, "custom"])).status_code == 404

    stranger = make_user(module="customers", scope="own")
    client.force_login(stranger)
    url = reverse("customers:contact_inline", args=[contact.pk, "title"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"title": "Hacked", "version": 1}).status_code == 404

    reader = make_user(module="customers", actions=("view",))
    client.force_login(reader)
    assert client.post(url, {"title": "Hacked", "version": 1}).status_code == 403
    assert "crm-inline-edit" not in client.get(reverse("customers:contact_list")).content.decode()
    assert Contact.objects.get().title == "Analyst"


def test_cancel_puts_the_value_back(roles, client):
    user = make_user(module="customers")
    contact = _contact(user)
    client.force_login(user)
    response = client.get(reverse("customers:contact_inline", args=[contact.pk, "title"]), {"cancel": "1"})
    assert (
        response.status_code == 200
        and "Analyst" in response.content.decode()
        and "<input" not in response.content.decode()
    )
