"""Custom fields an administrator marks sensitive: their values stored encrypted in the ``custom``
column and in the journal, read back clear, masked on pages, lists, the API and exports for a role
without the "view sensitive fields" permission, kept as they are by an editor who may not see them,
re-encrypted or decrypted when the flag changes, and re-encrypted by a key rotation."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from crm.core.choices import JobStatus, JournalAction
from crm.core.crypto import keyring, masking, rotation
from crm.core.models import JournalEntry
from crm.core.testing import api_client, journal_entries, make_user
from crm.customers import services
from crm.customers.custom_fields import selectors
from crm.customers.custom_fields import services as definitions
from crm.customers.custom_fields.storage import CustomValuesField
from crm.customers.io.testing import finished_job, media_fixture
from crm.customers.models import Company, Contact, CustomField

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

PASSPORT = "P4455667"
IBAN = "DE89370400440532013000"
CONTACTS = reverse("customers:contact_list")
COMPANIES = reverse("customers:company_list")


def stored(model, pk: int) -> dict:
    """The ``custom`` column as the database holds it, read past the ORM."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT custom FROM {table} WHERE id = %s", [pk])  # noqa: S608
        raw = cursor.fetchone()[0]
    return raw if isinstance(raw, dict) else json.loads(raw)


def stored_text(model, pk: int) -> str:
    return json.dumps(stored(model, pk), ensure_ascii=False)


@pytest.fixture
def fields(admin_user):
    def add(entity, key, kind, **kwargs):
        return definitions.custom_field_create(
            actor=admin_user, entity=entity, key=key, label=kwargs.pop("label", key.title()), kind=kind, **kwargs
        )

    return {
        "passport": add("contact", "passport", "text", label="Passport number", sensitive=True),
        "income": add("contact", "income", "money", sensitive=True),
        "kyc": add("contact", "kyc", "choice", choices=["Pending", "Verified"], label="KYC", sensitive=True),
        "language": add("contact", "language", "choice", choices=["English", "中文"]),
        "iban": add("company", "iban", "text", label="IBAN", sensitive=True),
        "tier": add("company", "tier", "choice", choices=["Gold", "Silver"]),
    }


@pytest.fixture
def rep(roles):
    return make_user(module="customers")


@pytest.fixture
def masked(roles):
    """Sees and edits every customer, but may not view sensitive fields."""
    return make_user(module="customers", sensitive=False)


@pytest.fixture
def person(rep, fields):
    return services.contact_create(
        actor=rep,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "custom": {"passport": PASSPORT, "income": "85000.50", "kyc": "Verified", "language": "English"},
        },
    )


@pytest.fixture
def acme(rep, fields):
    return services.company_create(actor=rep, data={"name": "Acme", "custom": {"iban": IBAN, "tier": "Gold"}})


# --- storage --------------------------------------------------------------------------------------------


def test_sensitive_values_are_stored_sealed_and_read_back_clear(person, acme):
    raw = stored(Contact, person.pk)
    assert PASSPORT not in stored_text(Contact, person.pk) and "85000" not in stored_text(Contact, person.pk)
    assert all(keyring.is_sealed(raw[key]) for key in ("passport", "income", "kyc"))
    assert raw["language"] == "English"  # not sensitive: clear, so it can be filtered and sorted on
    assert json.loads(keyring.open_sealed(raw["passport"])) == PASSPORT
    assert json.loads(keyring.open_sealed(raw["income"])) == 85000.5  # the JSON number, sealed
    assert IBAN not in stored_text(Company, acme.pk) and stored(Company, acme.pk)["tier"] == "Gold"

    fresh = Contact.objects.get(pk=person.pk)
    assert fresh.custom == {"passport": PASSPORT, "income": 85000.5, "kyc": "Verified", "language": "English"}
    assert Company.objects.get(pk=acme.pk).custom == {"iban": IBAN, "tier": "Gold"}
    assert list(Contact.objects.filter(pk=person.pk).values_list("custom__passport", flat=True)) == [PASSPORT]
    assert Contact.objects.filter(custom__has_key="passport").count() == 1
    # The same value sealed twice gives two different texts (a random nonce).
    Contact.objects.filter(pk=person.pk).update(custom=fresh.custom)
    assert stored(Contact, person.pk)["passport"] != raw["passport"]


def test_bulk_writes_seal_too(rep, fields):
    Contact.objects.bulk_create([Contact(full_name="Bulk", owner=rep, custom={"passport": "B1"})])
    contact = Contact.objects.get(full_name="Bulk")
    assert keyring.is_sealed(stored(Contact, contact.pk)["passport"])
    contact.custom = {"passport": "B2", "language": "中文"}
    Contact.objects.bulk_update([contact], ["custom"])
    raw = stored(Contact, contact.pk)
    assert keyring.is_sealed(raw["passport"]) and raw["language"] == "中文"
    assert Contact.objects.get(pk=contact.pk).custom == {"passport": "B2", "language": "中文"}


def test_a_deactivated_sensitive_field_keeps_its_values_sealed(admin_user, person, fields):
    definitions.custom_field_set_active(actor=admin_user, field=fields["passport"], active=False)
    contact = Contact.objects.get(pk=person.pk)
    services.contact_update(actor=person.owner, contact=contact, data={"first_name": "Augusta"}, version=None)
    contact.custom = {**contact.custom, "language": "中文"}
    contact.save()
    assert keyring.is_sealed(stored(Contact, person.pk)["passport"])
    assert Contact.objects.get(pk=person.pk).custom["passport"] == PASSPORT


def test_a_clear_text_that_looks_sealed_reads_back_as_written(rep, fields):
    look_alike = "enc1:k1:not-a-token"
    contact = services.contact_create(actor=rep, data={"first_name": "Eve", "custom": {"language": "English"}})
    Contact.objects.filter(pk=contact.pk).update(custom={"language": "English", "note": look_alike})
    assert Contact.objects.get(pk=contact.pk).custom["note"] == look_alike
    assert keyring.open_sealed(stored(Contact, contact.pk)["note"]) == json.dumps(look_alike)


def test_the_journal_keeps_sealed_copies_of_sensitive_values(person):
    created = journal_entries(person).get(action=JournalAction.CREATE)
    _before, after = created.changes["custom"]
    assert keyring.is_sealed(after["passport"]) and after["language"] == "English"
    assert PASSPORT not in json.dumps(created.changes)

    contact = Contact.objects.get(pk=person.pk)
    services.contact_update(
        actor=person.owner, contact=contact, data={"custom": {"passport": "Q1122334"}}, version=contact.version
    )
    entry = journal_entries(person).filter(action=JournalAction.UPDATE).latest("id")
    old, new = entry.changes["custom"]
    assert json.loads(keyring.open_sealed(old["passport"])) == PASSPORT
    assert json.loads(keyring.open_sealed(new["passport"])) == "Q1122334"
    assert PASSPORT not in json.dumps(entry.changes) and "Q1122334" not in json.dumps(entry.changes)
    assert old["language"] == new["language"] == "English"
    assert Contact._meta.get_field("custom").journal_value(None) is None


# --- masking ---------------------------------------------------------------------------------------------


def test_the_detail_page_masks_for_a_role_without_the_permission(client, person, acme, masked):
    client.force_login(masked)
    page = client.get(person.get_absolute_url()).content.decode()
    assert "Passport number" in page and masking.MASK in page
    assert PASSPORT not in page and "85,000" not in page and "Verified" not in page
    assert "English" in page
    company_page = client.get(acme.get_absolute_url()).content.decode()
    assert IBAN not in company_page and masking.MASK in company_page and "Gold" in company_page
    assert not JournalEntry.objects.filter(action=JournalAction.VIEW).exists()


def test_the_detail_page_shows_values_to_a_role_with_it_and_audits_the_read(client, person, rep):
    client.force_login(rep)
    page = client.get(person.get_absolute_url()).content.decode()
    assert PASSPORT in page and "85,000.50" in page and "Verified" in page
    entry = JournalEntry.objects.get(action=JournalAction.VIEW)
    assert entry.actor_id == rep.pk and entry.object_id == str(person.pk)


def _show_columns(client, url_name, columns):
    client.post(reverse(url_name), {"columns": columns})


def test_list_columns_mask_and_sensitive_fields_are_neither_filters_nor_sorts(client, person, acme, masked, rep):
    client.force_login(masked)
    _show_columns(client, "customers:contact_columns", ["cf_passport", "cf_language"])
    response = client.get(CONTACTS)
    page = response.content.decode()
    assert "Ada Lovelace" in page and masking.MASK in page and PASSPORT not in page and "English" in page
    filter_names = {field.name for field, _choices in response.context["more_filters"]}
    assert "cf_language" in filter_names and not {"cf_passport", "cf_income__min", "cf_kyc"} & filter_names
    sorts = {value for value, _label in response.context["sort_choices"]}
    assert "cf_language" in sorts and not {"cf_passport", "-cf_passport", "cf_income", "-cf_income"} & sorts
    assert "cf_passport" not in response.context["sort_headers"]
    # Asked anyway: the list is sorted by name and not filtered by it.
    response = client.get(CONTACTS, {"sort": "-cf_passport", "cf_passport": PASSPORT[:3]})
    assert response.context["sort"] == "name" and "Ada Lovelace" in response.content.decode()

    client.force_login(rep)
    _show_columns(client, "customers:company_columns", ["cf_iban", "cf_tier"])
    page = client.get(COMPANIES).content.decode()
    assert IBAN in page and "Gold" in page
    assert JournalEntry.objects.filter(action=JournalAction.VIEW, actor_id=rep.pk).exists()


def test_the_api_masks_for_a_role_without_the_permission_and_refuses_sensitive_filters(person, acme, masked, rep):
    body = api_client(masked).get(f"/api/v1/contacts/{person.pk}/").json()
    assert body["custom"] == {
        "passport": masking.MASK,
        "income": masking.MASK,
        "kyc": masking.MASK,
        "language": "English",
    }
    listing = api_client(masked).get("/api/v1/companies/").json()
    assert listing["results"][0]["custom"] == {"iban": masking.MASK, "tier": "Gold"}
    body = api_client(rep).get(f"/api/v1/contacts/{person.pk}/").json()
    assert body["custom"]["passport"] == PASSPORT and body["custom"]["income"] == 85000.5

    for params in ({"cf_passport": "P44"}, {"cf_income__min": "10"}, {"cf_kyc": "Verified"}):
        response = api_client(rep).get("/api/v1/contacts/", params)
        assert response.status_code == 400, params
        name = next(iter(params))
        assert "sensitive field" in json.dumps(response.json(), ensure_ascii=False)
        assert name in json.dumps(response.json())
    assert api_client(rep).get("/api/v1/contacts/", {"cf_language": "English"}).status_code == 200


def test_a_masked_value_sent_back_through_the_api_is_left_as_it_is(person, masked):
    client = api_client(masked)
    body = client.get(f"/api/v1/contacts/{person.pk}/").json()
    custom = {**body["custom"], "language": "中文"}
    response = client.patch(
        f"/api/v1/contacts/{person.pk}/", {"custom": custom, "version": body["version"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["custom"]["passport"] == masking.MASK
    fresh = Contact.objects.get(pk=person.pk)
    assert fresh.custom["passport"] == PASSPORT and fresh.custom["income"] == 85000.5
    assert fresh.custom["language"] == "中文"


def _export(client, capture, url_name, data):
    with capture(execute=True):
        response = client.post(reverse(url_name), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.result_file.open("rb") as handle:
        return handle.read()


def _csv_cells(raw: bytes) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, [row] = rows[0], rows[1:]
    return dict(zip(header, row, strict=True))


def test_exports_mask_for_a_role_without_the_permission(
    client, person, acme, masked, rep, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    client.force_login(masked)
    cells = _csv_cells(_export(client, capture, "customers:contact_export", {"format": "csv"}))
    assert cells["Passport number"] == masking.MASK and cells["Income"] == masking.MASK
    assert cells["KYC"] == masking.MASK and cells["Language"] == "English"
    raw = _export(client, capture, "customers:company_export", {"format": "xlsx"})
    sheet = list(openpyxl.load_workbook(io.BytesIO(raw)).active.iter_rows(values_only=True))
    row = dict(zip(sheet[0], sheet[1], strict=True))
    assert row["IBAN"] == masking.MASK and row["Tier"] == "Gold"
    assert IBAN.encode() not in raw

    client.force_login(rep)
    cells = _csv_cells(_export(client, capture, "customers:contact_export", {"format": "csv"}))
    assert cells["Passport number"] == PASSPORT and cells["Income"] == "85000.50" and cells["KYC"] == "Verified"


def test_an_export_filtered_by_a_sensitive_field_is_refused(client, person, rep):
    client.force_login(rep)
    response = client.post(reverse("customers:contact_export"), {"format": "csv", "cf_passport": "P44"})
    assert response.status_code == 400
    assert "sensitive field" in response.content.decode()


# --- editing ---------------------------------------------------------------------------------------------


def test_an_editor_without_the_permission_keeps_sensitive_custom_values(client, person, acme, masked):
    client.force_login(masked)
    url = reverse("customers:contact_edit", args=[person.pk])
    form = client.get(url).content.decode()
    assert 'name="cf_passport"' not in form and PASSPORT not in form and 'name="cf_kyc"' not in form
    assert 'name="cf_language"' in form
    response = client.post(
        url,
        {
            "first_name": "Augusta Ada",
            "last_name": "King",
            "lifecycle_stage": "customer",
            "version": person.version,
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
            "cf_language": "中文",
            "cf_passport": "",  # not an input of this form: changes nothing
            "cf_income": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    fresh = Contact.objects.get(pk=person.pk)
    assert fresh.first_name == "Augusta Ada"
    assert fresh.custom == {"passport": PASSPORT, "income": 85000.5, "kyc": "Verified", "language": "中文"}

    url = reverse("customers:company_edit", args=[acme.pk])
    form = client.get(url).content.decode()
    assert 'name="cf_iban"' not in form and IBAN not in form and 'name="cf_tier"' in form
    response = client.post(
        url, {"name": "Acme Ltd", "owner": acme.owner_id, "version": acme.version, "cf_tier": "Silver", "cf_iban": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Company.objects.get(pk=acme.pk).custom == {"iban": IBAN, "tier": "Silver"}


def test_the_form_names_the_fields_it_leaves_out(person, masked, rep):
    from crm.customers.forms import ContactForm

    form = ContactForm(instance=person, user=masked)
    assert form.custom_hidden_labels == ["Passport number", "Income", "KYC"]
    note = render_to_string("customers/custom_fields/_hidden_note.html", {"form": form})
    assert "Passport number, Income, KYC: hidden from your role" in note
    assert ContactForm(instance=person, user=rep).custom_hidden_labels == []
    assert (
        render_to_string(
            "customers/custom_fields/_hidden_note.html", {"form": ContactForm(instance=person, user=rep)}
        ).strip()
        == ""
    )


def test_an_editor_with_the_permission_sees_and_changes_them(client, person, rep):
    client.force_login(rep)
    url = reverse("customers:contact_edit", args=[person.pk])
    assert f'value="{PASSPORT}"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "lifecycle_stage": "lead",
            "version": person.version,
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
            "phones-TOTAL_FORMS": "0",
            "phones-INITIAL_FORMS": "0",
            "cf_passport": "R9988776",
            "cf_income": "85000.50",
            "cf_kyc": "Verified",
            "cf_language": "English",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Contact.objects.get(pk=person.pk).custom["passport"] == "R9988776"
    assert "R9988776" not in stored_text(Contact, person.pk)


def test_a_new_record_by_a_masked_editor_may_set_sensitive_values(client, masked, fields):
    client.force_login(masked)
    page = client.get(reverse("customers:contact_create")).content.decode()
    assert 'name="cf_passport"' in page
    response = client.post(
        reverse("customers:contact_create"),
        {
            "first_name": "Grace",
            "lifecycle_stage": "lead",
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
            "phones-TOTAL_FORMS": "0",
            "phones-INITIAL_FORMS": "0",
            "cf_passport": "G1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Contact.objects.get(first_name="Grace").custom["passport"] == "G1"


# --- the definition --------------------------------------------------------------------------------------


def test_marking_a_field_sensitive_seals_the_values_records_hold_and_unmarking_opens_them(admin_user, rep, fields):
    people = [
        services.contact_create(actor=rep, data={"first_name": f"P{i}", "custom": {"language": "中文"}})
        for i in range(3)
    ]
    services.contact_create(actor=rep, data={"first_name": "No language"})
    field = fields["language"]
    entries = JournalEntry.objects.count()
    versions = dict(Contact.objects.values_list("pk", "version"))

    field = definitions.custom_field_update(
        actor=admin_user, field=field, data={"sensitive": True}, version=field.version
    )
    assert selectors.sensitive_keys("contact") == {"passport", "income", "kyc", "language"}
    for contact in people:
        raw = stored(Contact, contact.pk)
        assert keyring.is_sealed(raw["language"]) and "中文" not in stored_text(Contact, contact.pk)
        assert Contact.objects.get(pk=contact.pk).custom == {"language": "中文"}
    # The definition's change is journaled; the records' values did not change, so neither are they.
    assert JournalEntry.objects.count() == entries + 1
    assert dict(Contact.objects.values_list("pk", "version")) == versions

    definitions.custom_field_update(actor=admin_user, field=field, data={"sensitive": False}, version=field.version)
    for contact in people:
        assert stored(Contact, contact.pk)["language"] == "中文"
        assert Contact.objects.get(pk=contact.pk).custom == {"language": "中文"}


def test_the_flag_is_on_the_settings_form_and_the_api(admin_client, admin_user, acme, fields):
    field = fields["tier"]
    url = reverse("customers:custom_field_edit", args=[field.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="sensitive"' in page and "Stored encrypted" in page
    response = admin_client.post(
        url,
        {
            "label": "Tier",
            "kind": "choice",
            "choices": "Gold\nSilver",
            "sensitive": "on",
            "version": field.version,
            "default": "",
            "help_text": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert CustomField.objects.get(pk=field.pk).sensitive is True
    assert keyring.is_sealed(stored(Company, acme.pk)["tier"])
    listing = admin_client.get(reverse("customers:custom_field_list")).content.decode()
    assert "sensitive" in listing

    client = api_client(admin_user)
    body = client.get(f"/api/v1/custom-fields/{field.pk}/").json()
    assert body["sensitive"] is True
    response = client.patch(
        f"/api/v1/custom-fields/{field.pk}/", {"sensitive": False, "version": body["version"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert stored(Company, acme.pk)["tier"] == "Gold"
    response = client.post(
        "/api/v1/custom-fields/",
        {"entity": "company", "label": "Tax number", "kind": "text", "sensitive": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["sensitive"] is True and "tax_number" in selectors.sensitive_keys("company")


def test_a_choice_still_held_by_a_sensitive_field_cannot_be_removed(admin_user, person, fields):
    field = fields["kyc"]
    with pytest.raises(ValidationError, match="still chosen"):
        definitions.custom_field_update(
            actor=admin_user, field=field, data={"choices": ["Pending"]}, version=field.version
        )
    field.refresh_from_db()
    with pytest.raises(ValidationError, match="still chosen"):  # no longer sensitive, in the same change
        definitions.custom_field_update(
            actor=admin_user, field=field, data={"choices": ["Pending"], "sensitive": False}, version=field.version
        )
    field.refresh_from_db()
    assert field.sensitive is True and keyring.is_sealed(stored(Contact, person.pk)["kyc"])
    field = definitions.custom_field_update(
        actor=admin_user, field=field, data={"choices": ["Verified"]}, version=field.version
    )
    assert field.choices == ["Verified"]


def test_the_field_class_seals_nothing_outside_the_record_types():
    field = CustomValuesField()
    assert field.get_prep_value({"passport": "X"}) == {"passport": "X"}


# --- key rotation -----------------------------------------------------------------------------------------


def test_key_rotation_re_encrypts_sensitive_custom_values(person, acme, key_file):
    assert keyring.key_id(stored(Contact, person.pk)["passport"]) == "k1"
    assert rotation.add_primary_key() == "k2"
    result = rotation.rotate()
    assert result.rewritten["customers.Contact.custom"] == 1 and result.rewritten["customers.Company.custom"] == 1
    raw = stored(Contact, person.pk)
    assert {keyring.key_id(raw[key]) for key in ("passport", "income", "kyc")} == {"k2"}
    assert keyring.key_id(stored(Company, acme.pk)["iban"]) == "k2"
    assert Contact.objects.get(pk=person.pk).custom["passport"] == PASSPORT
    assert Company.objects.get(pk=acme.pk).custom["iban"] == IBAN
    journal = journal_entries(person).get(action=JournalAction.CREATE).changes["custom"][1]
    assert keyring.key_id(journal["passport"]) == "k2"
    assert rotation.count_by_key()["k1"] == 0
    rotation.retire_key("k1")
    assert Contact.objects.get(pk=person.pk).custom["income"] == 85000.5
