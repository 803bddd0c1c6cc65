"""Custom field definitions: the administrator's services, pages (Settings → Custom fields) and API."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.urls import reverse

from crm.core.exceptions import ConflictError
from crm.core.testing import api_client, journal_entries, make_user
from crm.customers.custom_fields import selectors, services
from crm.customers.models import Company, Contact, CustomField

pytestmark = pytest.mark.django_db

LIST = reverse("customers:custom_field_list")
CREATE = reverse("customers:custom_field_create")
API = reverse("customers-api:custom-field-list")


@pytest.fixture
def admin(admin_user):
    return admin_user


def create(admin, **kwargs) -> CustomField:
    data = {"entity": "contact", "label": "Preferred language", "kind": "choice", "choices": ["English", "中文"]}
    data.update(kwargs)
    return services.custom_field_create(actor=admin, **data)


# --- services ---------------------------------------------------------------------------------------------


def test_create_makes_the_key_from_the_label_and_puts_the_field_last(admin):
    first = create(admin)
    second = services.custom_field_create(actor=admin, entity="contact", label="Customer since", kind="date")
    assert (first.key, first.position) == ("preferred_language", 0)
    assert (second.key, second.position) == ("customer_since", 1)
    assert [d.key for d in selectors.active_definitions("contact")] == ["preferred_language", "customer_since"]
    assert journal_entries(second).get().action == "create"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"key": "Bad Key"}, "key", "lower-case letters"),
        ({"key": "double__underscore"}, "key", "two underscores"),
        ({"key": "", "label": "客户等级"}, "key", "Give the field a key"),
        ({"label": "  "}, "label", "This field is required."),
        ({"kind": "colour"}, "kind", "Choose one of the types."),
        ({"choices": []}, "choices", "at least one choice"),
        ({"choices": ["A", "a"]}, "choices", "listed twice"),
        ({"choices": ["A; B"]}, "choices", "semicolon"),
        ({"choices": ["x" * 101]}, "choices", "too long"),
        ({"kind": "text", "choices": ["A"]}, "choices", "Only fields of the types"),
        ({"default": "French"}, "default", "not one of the choices"),
        ({"kind": "number", "choices": [], "default": "many"}, "default", "not a number"),
        ({"kind": "date", "choices": [], "default": "tomorrow"}, "default", "not a date"),
    ],
)
def test_a_bad_definition_is_refused_next_to_its_input_and_nothing_is_written(admin, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        create(admin, **changes)
    assert message in " ".join(caught.value.message_dict[field])
    assert not CustomField.objects.exists()


def test_a_key_is_unique_per_record_type_even_among_inactive_fields(admin):
    field = create(admin)
    services.custom_field_set_active(actor=admin, field=field, active=False)
    with pytest.raises(ValidationError) as caught:
        create(admin)
    assert "key" in caught.value.message_dict
    assert create(admin, entity="company").key == "preferred_language"  # another record type


def test_the_key_and_record_type_never_change_and_a_stale_edit_is_refused(admin):
    field = create(admin)
    with pytest.raises(ValidationError) as caught:
        services.custom_field_update(actor=admin, field=field, data={"key": "lang"}, version=field.version)
    assert "key" in caught.value.message_dict
    field = CustomField.objects.get()
    services.custom_field_update(actor=admin, field=field, data={"label": "Language"}, version=field.version)
    stale = CustomField.objects.get()
    stale.version -= 1
    with pytest.raises(ConflictError):
        services.custom_field_update(actor=admin, field=stale, data={"label": "Other"}, version=stale.version)
    assert CustomField.objects.get().label == "Language"


def test_the_type_cannot_change_once_records_hold_values(admin):
    field = create(admin, kind="text", choices=[])
    Contact.objects.create(first_name="Ada", custom={"preferred_language": "English"})
    with pytest.raises(ValidationError) as caught:
        services.custom_field_update(actor=admin, field=field, data={"kind": "number"}, version=field.version)
    assert "kind" in caught.value.message_dict
    assert CustomField.objects.get().kind == "text"


def test_a_choice_still_chosen_cannot_be_removed(admin):
    field = create(admin, kind="multi_choice", choices=["Red", "Green", "Blue"])
    Contact.objects.create(first_name="Ada", custom={"preferred_language": ["Green"]})
    with pytest.raises(ValidationError) as caught:
        services.custom_field_update(actor=admin, field=field, data={"choices": ["Red", "Blue"]}, version=field.version)
    assert "Green" in caught.value.message_dict["choices"][0]
    field = CustomField.objects.get()
    services.custom_field_update(actor=admin, field=field, data={"choices": ["Green", "Teal"]}, version=field.version)
    assert CustomField.objects.get().choices == ["Green", "Teal"]


def test_reorder_deactivate_and_reactivate(admin):
    a, b, c = (create(admin, label=label, kind="text", choices=[]) for label in ("A", "B", "C"))
    services.custom_field_reorder(actor=admin, entity="contact", ids=[c.pk, a.pk])
    assert [d.label for d in selectors.active_definitions("contact")] == ["C", "A", "B"]
    services.custom_field_move(actor=admin, field=CustomField.objects.get(pk=b.pk), step=-1)
    assert [d.label for d in selectors.active_definitions("contact")] == ["C", "B", "A"]
    services.custom_field_set_active(actor=admin, field=CustomField.objects.get(pk=b.pk), active=False)
    assert [d.label for d in selectors.active_definitions("contact")] == ["C", "A"]
    services.custom_field_set_active(actor=admin, field=CustomField.objects.get(pk=b.pk), active=True)
    assert [d.label for d in selectors.active_definitions("contact")] == ["C", "B", "A"]
    with pytest.raises(ValidationError):
        services.custom_field_reorder(actor=admin, entity="company", ids=[a.pk])


def test_delete_only_while_no_record_holds_a_value(admin):
    field = create(admin, entity="company", kind="text", choices=[])
    company = Company.objects.create(name="Acme", custom={"preferred_language": "x"})
    with pytest.raises(ValidationError) as caught:
        services.custom_field_delete(actor=admin, field=field)
    assert "deactivate the field instead" in caught.value.messages[0]
    company.custom = {}
    company.save()
    services.custom_field_delete(actor=admin, field=field)
    assert not CustomField.objects.exists()
    assert selectors.active_definitions("company") == []


def test_only_administrators_manage_fields(roles):
    manager = make_user(module="customers")
    with pytest.raises(PermissionDenied):
        services.custom_field_create(actor=manager, entity="contact", label="X", kind="text")
    assert not CustomField.objects.exists()


def test_definitions_are_read_once_then_remembered(admin, django_assert_num_queries):
    create(admin)
    selectors.active_definitions("contact")
    with django_assert_num_queries(0):
        assert len(selectors.active_definitions("contact")) == 1
    CustomField.objects.create(entity="contact", key="other", label="Other")  # any path forgets them
    assert len(selectors.active_definitions("contact")) == 2


# --- pages ------------------------------------------------------------------------------------------------------


def test_the_settings_page_lists_fields_per_record_type_with_empty_states(admin_client, admin):
    page = admin_client.get(LIST).content.decode()
    assert "No fields of companies yet" in page and "No fields of contacts yet" in page
    create(admin)
    page = admin_client.get(LIST).content.decode()
    assert "Preferred language" in page and "preferred_language" in page and "One choice" in page
    assert "No fields of companies yet" in page


def test_the_admin_section_of_the_menu_has_the_entry_for_administrators_only(admin_client, client, roles):
    assert f'href="{LIST}"' in admin_client.get(reverse("customers:contact_list")).content.decode()
    rep = make_user(module="customers")
    client.force_login(rep)
    assert f'href="{LIST}"' not in client.get(reverse("customers:contact_list")).content.decode()
    assert client.get(LIST).status_code == 403
    assert client.post(f"{CREATE}?entity=contact", {"label": "X", "kind": "text"}).status_code == 403
    assert not CustomField.objects.exists()


def test_add_a_field_through_the_page(admin_client):
    response = admin_client.post(
        f"{CREATE}?entity=company",
        {"label": "Tier", "key": "", "kind": "choice", "choices": "Gold\nSilver\n\nBronze", "default": "Silver"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    field = CustomField.objects.get()
    assert (field.entity, field.key, field.choices, field.default) == (
        "company",
        "tier",
        ["Gold", "Silver", "Bronze"],
        "Silver",
    )


def test_a_bad_definition_on_the_page_shows_its_errors_and_saves_nothing(admin_client):
    response = admin_client.post(
        f"{CREATE}?entity=contact", {"label": "Tier", "kind": "choice", "choices": "Gold\ngold"}
    )
    assert response.status_code == 400
    assert "is listed twice" in response.content.decode()
    response = admin_client.post(f"{CREATE}?entity=contact", {"label": "Budget", "kind": "money", "default": "1.234"})
    assert response.status_code == 400 and "at most 2 decimal places" in response.content.decode()
    assert not CustomField.objects.exists()
    assert admin_client.get(f"{CREATE}?entity=planet").status_code == 404


def test_changing_the_type_redraws_the_inputs_without_saving(admin_client):
    response = admin_client.post(
        f"{CREATE}?entity=contact", {"refresh": "1", "label": "Tier", "kind": "choice", "choices": "Gold\nSilver"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'name="choices"' in page
    assert '<option value="Silver">Silver</option>' in page  # the default offers the choices typed so far
    response = admin_client.post(f"{CREATE}?entity=contact", {"refresh": "1", "label": "Tier", "kind": "boolean"})
    page = response.content.decode()
    assert 'name="choices"' not in page and '<option value="true">Yes</option>' in page
    assert "This field is required" not in page
    assert not CustomField.objects.exists()


def test_edit_keeps_the_key_and_detects_stale_edits(admin_client, admin):
    field = create(admin)
    url = reverse("customers:custom_field_edit", args=[field.pk])
    page = admin_client.get(url).content.decode()
    assert "disabled" in page and "preferred_language" in page
    data = {
        "label": "Language",
        "kind": "choice",
        "choices": "English\n中文",
        "key": "hacked",
        "version": field.version,
    }
    assert admin_client.post(url, data).status_code == 302
    field.refresh_from_db()
    assert (field.label, field.key) == ("Language", "preferred_language")
    assert admin_client.post(url, {**data, "label": "Stale"}).status_code == 409
    assert CustomField.objects.get().label == "Language"


def test_deactivate_move_and_delete_from_the_list(admin_client, admin):
    field = create(admin, kind="text", choices=[])
    other = create(admin, label="Other", kind="text", choices=[])
    admin_client.post(reverse("customers:custom_field_move", args=[other.pk]), {"direction": "up"})
    assert list(CustomField.objects.order_by("position").values_list("key", flat=True)) == [
        "other",
        "preferred_language",
    ]
    admin_client.post(reverse("customers:custom_field_set_active", args=[field.pk]), {"active": "0"})
    assert not CustomField.objects.get(pk=field.pk).is_active
    Contact.objects.create(first_name="Ada", custom={"preferred_language": "x"})
    page = admin_client.get(reverse("customers:custom_field_delete", args=[field.pk])).content.decode()
    assert "cannot be deleted" in page
    response = admin_client.post(reverse("customers:custom_field_delete", args=[field.pk]), follow=True)
    assert "deactivate the field instead" in response.content.decode()
    assert CustomField.objects.filter(pk=field.pk).exists()
    admin_client.post(reverse("customers:custom_field_delete", args=[other.pk]))
    assert not CustomField.objects.filter(pk=other.pk).exists()


def test_the_settings_page_renders_in_chinese(admin_client, admin):
    create(admin)
    response = admin_client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and 'lang="zh-hans"' in response.content.decode()


# --- API ---------------------------------------------------------------------------------------------------------


def test_anyone_who_views_customers_reads_the_definitions(admin, roles):
    create(admin)
    reader = make_user(module="customers", actions=("view",))
    response = api_client(reader).get(API, {"entity": "contact"})
    assert response.status_code == 200
    [row] = response.json()
    assert row["key"] == "preferred_language" and row["choices"] == ["English", "中文"] and row["kind"] == "choice"
    assert api_client(make_user(module="nothing", actions=())).get(API).status_code == 403


def test_only_administrators_write_definitions_through_the_api(admin, roles):
    rep = make_user(module="customers")
    assert (
        api_client(rep).post(API, {"entity": "contact", "label": "X", "kind": "text"}, format="json").status_code == 403
    )
    api = api_client(admin)
    response = api.post(
        API, {"entity": "contact", "label": "Budget", "kind": "money", "default": "12.5"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["key"] == "budget" and body["default"] == 12.5
    url = reverse("customers-api:custom-field-detail", args=[body["id"]])
    response = api.patch(url, {"default": "1.234", "version": body["version"]}, format="json")
    assert response.status_code == 400 and "default" in response.json()["errors"]
    response = api.patch(url, {"key": "money", "version": body["version"]}, format="json")
    assert response.status_code == 400 and "key" in response.json()["errors"]
    response = api.patch(url, {"label": "Budget (EUR)", "version": body["version"]}, format="json")
    assert response.status_code == 200 and response.json()["version"] == body["version"] + 1
    response = api.patch(url, {"label": "Stale", "version": body["version"]}, format="json")
    assert response.status_code == 409
    response = api.patch(url, {"is_active": False, "version": body["version"] + 1}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    Contact.objects.create(first_name="Ada", custom={"budget": 1})
    assert api.delete(url).status_code == 400
    Contact.objects.all().delete()
    assert api.delete(url).status_code == 204


def test_a_repeated_request_id_never_serves_old_definitions(client, admin, roles):
    rep = make_user(module="customers")
    client.force_login(rep)
    headers = {"HTTP_X_REQUEST_ID": "same-id-every-time"}
    page = client.get(reverse("customers:contact_create"), **headers).content.decode()
    assert "cf_preferred_language" not in page
    # Another process adds a field: the shared cache is dropped, this process's memory is not told.
    models.QuerySet.bulk_create(
        CustomField.objects.all(), [CustomField(entity="contact", key="preferred_language", label="Language")]
    )
    cache.clear()
    page = client.get(reverse("customers:contact_create"), **headers).content.decode()
    assert 'name="cf_preferred_language"' in page
