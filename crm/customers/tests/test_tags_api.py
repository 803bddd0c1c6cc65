"""``/api/v1/tags/``: list and search for anyone who sees customers; create, rename, delete by permission."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.testing import api_client, journal_entries, make_user
from crm.customers import services
from crm.customers.models import Contact, Tag

pytestmark = pytest.mark.django_db


def test_list_search_create_rename_and_delete(roles):
    user = make_user(module="customers")
    api = api_client(user)
    Tag.objects.create(name="VIP")
    Tag.objects.create(name="Partner")
    listing = api.get(reverse("customers-api:tag-list"), {"q": "vi"}).json()
    assert [tag["name"] for tag in listing["results"]] == ["VIP"]

    created = api.post(
        reverse("customers-api:tag-list"), {"name": "  Trade fair 2026 ", "color": "green"}, format="json"
    )
    assert created.status_code == 201, created.content
    tag = Tag.objects.get(pk=created.json()["id"])
    assert (tag.name, tag.color) == ("Trade fair 2026", "green")

    contact = services.contact_create(actor=user, data={"full_name": "王芳", "tags": [tag]})
    renamed = api.patch(reverse("customers-api:tag-detail", args=[tag.pk]), {"name": "Fair"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert list(contact.tags.values_list("name", flat=True)) == ["Fair"]

    deleted = api.delete(reverse("customers-api:tag-detail", args=[tag.pk]))
    assert deleted.status_code == 204
    assert not Tag.objects.filter(pk=tag.pk).exists() and contact.tags.count() == 0
    removal = journal_entries(contact).last()
    assert removal.changes == {"tags": {"remove": [tag.pk]}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "vip"}, "name"),  # same name in another case
        ({"name": "   "}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "Ok", "color": "chartreuse"}, "color"),
        ({"name": "Ok", "size": 3}, "size"),
    ],
)
def test_bad_tags_are_refused_with_a_field_error(roles, body, field):
    Tag.objects.create(name="VIP")
    response = api_client(make_user(module="customers")).post(reverse("customers-api:tag-list"), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Tag.objects.count() == 1


def test_permissions_decide_who_may_change_tags(roles):
    tag = Tag.objects.create(name="VIP")
    reader = api_client(make_user(module="customers", actions=("view",)))
    assert reader.get(reverse("customers-api:tag-list")).status_code == 200
    assert reader.post(reverse("customers-api:tag-list"), {"name": "New"}).status_code == 403
    assert reader.patch(reverse("customers-api:tag-detail", args=[tag.pk]), {"name": "X"}).status_code in (403, 404)
    editor = api_client(make_user(module="customers", actions=("view", "edit")))
    assert editor.delete(reverse("customers-api:tag-detail", args=[tag.pk])).status_code in (403, 404)
    outsider = api_client(make_user(module="sales"))
    assert outsider.get(reverse("customers-api:tag-list")).status_code == 403
    assert Tag.objects.get().name == "VIP" and Contact.objects.count() == 0
