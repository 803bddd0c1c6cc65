"""Field-level encryption: what the database holds, lookups through the blind index, tampering,
missing keys, rotation while the CRM runs, and masking for roles without the permission."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from crm.core.choices import JournalAction
from crm.core.crypto import keyring, masking, rotation
from crm.core.models import JournalEntry
from crm.core.security import audit_chain
from crm.core.testing import api_client, make_user
from crm.customers import services
from crm.customers.models import Contact, ContactPhone
from crm.sales.models import Lead

pytestmark = pytest.mark.django_db

PHONE = "+442079460958"
SECRETS = {
    "phone": PHONE,
    "street": "221B Baker Street",
    "postal": "NW1 6XE",
    "birthday": "1985-12-10",
    "id": "X99887766",
    "notes": "Allergic to peanuts",
}


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def person(roles):
    owner = make_user(module="customers")
    return services.contact_create(
        actor=owner,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "street": SECRETS["street"],
            "postal_code": SECRETS["postal"],
            "date_of_birth": dt.date(1985, 12, 10),
            "id_number": SECRETS["id"],
            "private_notes": SECRETS["notes"],
            "phones": [{"number": PHONE, "kind": "mobile", "is_primary": True}],
            "owner": owner,
        },
    )


def test_values_are_stored_sealed_and_read_back_clear(person):
    stored = _raw("customers_contact", "street", person.pk)
    assert stored.startswith("enc1:k1:") and SECRETS["street"] not in stored
    phone_row = ContactPhone.objects.get(contact=person)
    stored_phone = _raw("customers_contactphone", "number", phone_row.pk)
    assert len(stored_phone) > 32 and stored_phone[32:].startswith("enc1:k1:") and PHONE not in stored_phone
    fresh = Contact.objects.get(pk=person.pk)
    assert (fresh.street, fresh.postal_code, fresh.id_number, fresh.private_notes, fresh.phone) == (
        SECRETS["street"],
        SECRETS["postal"],
        SECRETS["id"],
        SECRETS["notes"],
        PHONE,
    )
    assert fresh.date_of_birth == dt.date(1985, 12, 10)
    # The same value sealed twice gives two different texts (random nonce), one blind index.
    again = _raw("customers_contact", "phone", person.pk)
    assert again[:32] == stored_phone[:32] and again[32:] != stored_phone[32:]


def test_exact_matches_go_through_the_blind_index(person):
    assert list(Contact.objects.filter(phone=PHONE)) == [person]
    assert list(Contact.objects.filter(phones__number=PHONE)) == [person]
    assert list(Contact.objects.filter(phones__number__in=[PHONE, "+8613812345678"])) == [person]
    assert list(Contact.objects.filter(id_number=SECRETS["id"])) == [person]
    assert not Contact.objects.filter(phone="+8613812345678").exists()
    assert Contact.objects.filter(pk=person.pk).exclude(phone="").exists()
    with pytest.raises(FieldError):
        list(Contact.objects.filter(phone__icontains="4420"))
    with pytest.raises(FieldError):
        list(Contact.objects.filter(street="221B Baker Street"))  # no blind index: not searchable


def test_the_blind_index_lookup_uses_its_database_index(person):
    sql, params = Contact.objects.filter(phone=PHONE).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "contact_phone_bidx" in plan


def test_the_journal_keeps_encrypted_copies_and_shows_them_clear(person):
    services.contact_update(actor=person.owner, contact=person, data={"street": "10 Downing Street"}, version=None)
    entry = JournalEntry.objects.filter(object_id=str(person.pk), action="update").latest("id")
    old, new = entry.changes["street"]
    assert keyring.is_sealed(old) and keyring.is_sealed(new)
    assert keyring.open_sealed(old) == SECRETS["street"] and keyring.open_sealed(new) == "10 Downing Street"


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_sensitive_value_in_clear(person):
    """The whole database dumped by the engine's own tool (SQLite's .dump, pg_dump), then searched."""
    Lead.objects.create(name="Grace", phone="+8613812345678")
    services.contact_update(actor=person.owner, contact=person, data={"private_notes": "Prefers tea"}, version=None)
    if connection.vendor == "sqlite":
        dump = "\n".join(connection.connection.iterdump())
    else:
        db = settings.DATABASES["default"]
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump (PostgreSQL's client) is needed to dump the test database"
        result = subprocess.run(
            [pg_dump, "--data-only", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], db["NAME"]],
            env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
            capture_output=True,
            text=True,
            check=True,
        )
        dump = result.stdout
    assert "Lovelace" in dump and "Grace" in dump  # the dump is real: names are not encrypted
    for value in (*SECRETS.values(), "Prefers tea", "+8613812345678", "8613812345678", "2079460958"):
        assert value not in dump, value


def test_a_tampered_value_reads_as_an_error_never_as_other_text(person):
    stored = _raw("customers_contact", "street", person.pk)
    kid, blob = stored[len("enc1:") :].split(":", 1)
    flipped = blob[:-6] + ("A" if blob[-6] != "A" else "B") + blob[-5:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_contact SET street = %s WHERE id = %s", [f"enc1:{kid}:{flipped}", person.pk])
    with pytest.raises(keyring.DecryptionError, match="integrity"):
        Contact.objects.get(pk=person.pk)


def test_a_value_sealed_with_an_unknown_key_names_the_key(person):
    stored = _raw("customers_contact", "street", person.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_contact SET street = %s WHERE id = %s", [stored.replace("k1", "k7"), person.pk]
        )
    with pytest.raises(keyring.DecryptionError, match="'k7'"):
        Contact.objects.get(pk=person.pk)


def test_starting_without_the_key_file_is_a_clear_error(tmp_path):
    env = {
        **os.environ,
        "CRM_KEY_FILE": str(tmp_path / "lost-keys.json"),
        "CRM_FIELD_KEYS": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CRM_LOCAL_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "lost-keys.json does not exist" in result.stderr and "Restore it" in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]


def test_rotation_re_encrypts_everything_and_the_old_key_can_be_retired(person, key_file):
    services.contact_update(actor=person.owner, contact=person, data={"street": "10 Downing Street"}, version=None)
    assert audit_chain.seal().sealed > 0
    with pytest.raises(keyring.CryptoError, match="primary"):
        rotation.retire_key("k1")

    call_command("rotate_keys", "--new-key", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert json.loads(key_file.read_text())["primary"] == "k2"
    counts = rotation.count_by_key()
    assert counts["k1"] == 0 and counts["k2"] >= 8  # columns and journal copies
    assert _raw("customers_contact", "street", person.pk).startswith("enc1:k2:")
    fresh = Contact.objects.get(pk=person.pk)
    assert fresh.street == "10 Downing Street" and fresh.phone == PHONE
    assert list(Contact.objects.filter(phone=PHONE)) == [person]  # the blind index did not change
    # The audit chain holds: entries hash their clear values, not the key that seals them.
    assert audit_chain.verify().ok
    rotation.retire_key("k1")
    assert set(json.loads(key_file.read_text())["keys"]) == {"k2"}
    assert Contact.objects.get(pk=person.pk).private_notes == SECRETS["notes"]


def test_retiring_a_key_that_still_seals_values_is_refused(person, key_file):
    rotation.add_primary_key()  # a new key, but nothing re-encrypted yet
    with pytest.raises(keyring.CryptoError, match="still encrypted with k1"):
        rotation.retire_key("k1")
    assert "k1" in json.loads(key_file.read_text())["keys"]
    assert Contact.objects.get(pk=person.pk).street == SECRETS["street"]


def test_a_rotation_never_overwrites_an_edit_made_meanwhile(person, key_file, monkeypatch):
    rotation.add_primary_key()
    real = rotation._stored_rows

    def rows_then_edit(model, f):  # a person saves the contact between the read and the write
        for batch in real(model, f):
            if model is Contact and f.name == "street":
                Contact.objects.filter(pk=person.pk).update(street="Edited meanwhile")
            yield batch

    monkeypatch.setattr(rotation, "_stored_rows", rows_then_edit)
    rotation.rotate()
    assert Contact.objects.get(pk=person.pk).street == "Edited meanwhile"


# --- masking ------------------------------------------------------------------------------------------


@pytest.fixture
def viewer_without_permission(person):
    return make_user(module="customers", actions=("view",), sensitive=False)


def test_a_role_without_the_permission_sees_masks_on_pages(client, person, viewer_without_permission):
    client.force_login(viewer_without_permission)
    detail = client.get(person.get_absolute_url()).content.decode()
    listing = client.get(reverse("customers:contact_list")).content.decode()
    for page in (detail, listing):
        assert "Ada Lovelace" in page and masking.MASK in page
        assert "7946 0958" not in page and PHONE not in page
    for value in (SECRETS["street"], SECRETS["id"], SECRETS["notes"], "1985"):
        assert value not in detail
    assert not JournalEntry.objects.filter(action=JournalAction.VIEW).exists()


def test_a_role_with_the_permission_sees_values_and_the_read_is_audited(client, person):
    reader = make_user(module="customers", actions=("view",))
    client.force_login(reader)
    detail = client.get(person.get_absolute_url()).content.decode()
    assert "+44 20 7946 0958" in detail and SECRETS["street"] in detail and SECRETS["id"] in detail
    entry = JournalEntry.objects.get(action=JournalAction.VIEW)
    assert entry.actor_id == reader.pk and entry.object_id == str(person.pk)
    # The audit entry is in the audit log, not in the record's own history.
    assert not person.pk or JournalAction.VIEW not in set(
        JournalEntry.objects.filter(object_id=str(person.pk))
        .exclude(action=JournalAction.VIEW)
        .values_list("action", flat=True)
    )


def test_the_api_masks_for_a_role_without_the_permission(person, viewer_without_permission):
    body = api_client(viewer_without_permission).get(f"/api/v1/contacts/{person.pk}/").json()
    assert body["phone"] == masking.MASK and body["phones"][0]["number"] == masking.MASK
    assert body["street"] == masking.MASK and body["id_number"] == masking.MASK
    assert body["date_of_birth"] == masking.MASK and body["city"] == ""
    reader = make_user(module="customers", actions=("view",))
    body = api_client(reader).get(f"/api/v1/contacts/{person.pk}/").json()
    assert body["phone"] == PHONE and body["street"] == SECRETS["street"] and body["date_of_birth"] == "1985-12-10"


def test_searching_by_phone_needs_the_permission(person, viewer_without_permission):
    from crm.customers import selectors

    assert selectors.contact_search(user=viewer_without_permission, query="+44 20 7946 0958", limit=5) == []
    reader = make_user(module="customers", actions=("view",))
    assert [r.title for r in selectors.contact_search(user=reader, query="+44 20 7946 0958", limit=5)] == [
        "Ada Lovelace"
    ]


def test_an_editor_without_the_permission_keeps_sensitive_values_untouched(client, person):
    editor = make_user(module="customers", actions=("view", "edit"), sensitive=False)
    client.force_login(editor)
    url = reverse("customers:contact_edit", args=[person.pk])
    form = client.get(url).content.decode()
    assert SECRETS["street"] not in form and "7946" not in form and SECRETS["id"] not in form
    response = client.post(
        url,
        {
            "first_name": "Augusta Ada",
            "last_name": "King",
            "lifecycle_stage": "customer",
            "version": person.version,
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code in (200, 302)
    fresh = Contact.objects.get(pk=person.pk)
    assert fresh.first_name == "Augusta Ada"
    assert (fresh.street, fresh.phone, fresh.id_number) == (SECRETS["street"], PHONE, SECRETS["id"])


def test_masked_values_sent_back_to_a_service_leave_the_stored_ones_as_they_are(person):
    """Whatever path sends a record back as it was read masked (API, import, a script), the service
    keeps the values behind the mask."""
    services.contact_update(
        actor=person.owner,
        contact=person,
        data={
            "first_name": "Augusta",
            "street": masking.MASK,
            "id_number": masking.MASK,
            "phones": [{"number": masking.MASK, "kind": "mobile", "is_primary": True}],
        },
        version=None,
    )
    fresh = Contact.objects.get(pk=person.pk)
    assert fresh.first_name == "Augusta"
    assert (fresh.street, fresh.id_number, fresh.phone) == (SECRETS["street"], SECRETS["id"], PHONE)
    assert list(fresh.phones.values_list("number", flat=True)) == [PHONE]
