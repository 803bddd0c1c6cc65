"""``rows.insert_rows``: what an import writes is what ``bulk_create`` would have written, journal included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection

from crm.core import context
from crm.core.choices import ChangeSource
from crm.core.crypto import keyring
from crm.core.models import JournalEntry
from crm.core.rows import MAX_ROWS_PER_STATEMENT, insert_rows
from crm.core.testing import journal_entries, make_user
from crm.core.tests.sample.models import Gadget
from crm.customers.models import Contact, ContactPhone

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(roles):
    return make_user(module="sample", username="writer")


def test_rows_get_ids_in_order_defaults_and_times(writer):
    count = MAX_ROWS_PER_STATEMENT + 7  # more than one statement
    ids = insert_rows(Gadget, [{"name": f"G{i:04d}", "owner_id": writer.pk} for i in range(count)])
    assert len(ids) == len(set(ids)) == count
    stored = dict(Gadget.objects.values_list("pk", "name"))
    assert [stored[pk] for pk in ids] == [f"G{i:04d}" for i in range(count)]
    first = Gadget.objects.get(pk=ids[0])
    assert first.notes == "" and first.version == 1 and first.owner_id == writer.pk
    assert first.created_at is not None and first.created_at == first.updated_at


def test_rows_are_journaled_with_the_change_context_unless_told_not_to(writer):
    with context.change_context(actor=writer, source=ChangeSource.IMPORT):
        ids = insert_rows(Gadget, [{"name": "Alpha", "owner_id": writer.pk}, {"name": "Beta", "owner_id": writer.pk}])
        quiet = insert_rows(Gadget, [{"name": "Gamma", "owner_id": writer.pk}], journaled=False)
    first, second = (Gadget.objects.get(pk=pk) for pk in ids)
    entry = journal_entries(first).get()
    assert (entry.action, entry.source, entry.actor_id, entry.object_repr) == ("create", "import", writer.pk, "Alpha")
    assert entry.changes["name"] == [None, "Alpha"] and entry.changes["owner"] == [None, writer.pk]
    assert journal_entries(second).get().object_repr == "Beta"
    assert not journal_entries(Gadget.objects.get(pk=quiet[0])).exists()


def test_encrypted_values_are_sealed_found_by_blind_index_and_kept_sealed_in_the_journal(writer):
    phone = "+442079460958"
    [pk] = insert_rows(
        Contact,
        [
            {
                "first_name": "Ada",
                "name": "Ada",
                "phone": phone,
                "date_of_birth": dt.date(1815, 12, 10),
                "custom": {},
                "owner_id": writer.pk,
            }
        ],
        labels=["Ada"],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, date_of_birth FROM customers_contact WHERE id = %s", [pk])
        stored_phone, stored_birthday = cursor.fetchone()
    assert phone not in stored_phone and "1815" not in str(stored_birthday)
    assert Contact.objects.get(phone=phone).pk == pk
    assert Contact.objects.get(pk=pk).date_of_birth == dt.date(1815, 12, 10)
    changes = JournalEntry.objects.get(content_type__model="contact", object_id=str(pk)).changes
    assert keyring.open_sealed(changes["phone"][1]) == phone


def test_an_encrypted_value_never_becomes_the_journal_text_of_a_record(writer):
    """A phone row's ``str()`` is its number: the journal names the row instead."""
    contact = Contact.objects.create(first_name="Ada", owner=writer)
    row = ContactPhone.objects.create(contact=contact, number="+442079460958")
    [pk] = insert_rows(ContactPhone, [{"contact_id": contact.pk, "number": "+442079460959"}])
    texts = set(JournalEntry.objects.filter(content_type__model="contactphone").values_list("object_repr", flat=True))
    assert texts == {f"phone number {row.pk}", f"phone number {pk}"}


def test_nothing_is_written_when_a_row_is_refused(writer):
    before = Gadget.objects.count(), JournalEntry.objects.count()
    with pytest.raises(IntegrityError):
        insert_rows(Gadget, [{"name": "Fine", "owner_id": writer.pk}, {"name": None, "owner_id": writer.pk}])
    assert (Gadget.objects.count(), JournalEntry.objects.count()) == before


def test_no_rows_write_nothing():
    assert insert_rows(Gadget, []) == []


def test_a_callable_default_is_called_for_each_row():
    from crm.sales.models import LeadForm

    first, second = insert_rows(LeadForm, [{"name": "Contact us"}, {"name": "Demo request"}])
    forms = LeadForm.objects.in_bulk([first, second])
    assert forms[first].token and forms[first].token != forms[second].token  # a unique token each
    assert forms[first].fields == [] and forms[second].fields == []


def test_models_without_an_automatic_id_are_refused(admin_user):
    from crm.core.models import Job

    with pytest.raises(ValueError, match="automatic id"):
        insert_rows(Job, [{"kind": "demo", "created_by_id": admin_user.pk}])


def test_a_short_encrypted_value_inside_a_name_does_not_hide_the_name(writer):
    contact = Contact.objects.create(full_name="Mei Li", postal_code="Li", owner=writer)
    entry = JournalEntry.objects.get(content_type__model="contact", object_id=str(contact.pk), action="create")
    assert entry.object_repr == "Mei Li"


def test_a_few_rows_and_many_rows_are_stored_alike(writer):
    """A few rows go in an INSERT, many by COPY on PostgreSQL: the same values either way."""
    from crm.core.rows import COPY_FROM_ROWS

    row = {
        "first_name": "Zoë",
        "name": "Zoë\ttab \\ back",
        "custom": {"score": 3, "tags": ["a", "b"], "note": "line\nbreak"},
        "date_of_birth": dt.date(1990, 2, 28),
        "phone": "+8613812345678",
        "owner_id": writer.pk,
    }
    [few] = insert_rows(Contact, [row], labels=["few"])
    many = insert_rows(Contact, [row] * COPY_FROM_ROWS, labels=["many"] * COPY_FROM_ROWS)
    fields = ("first_name", "name", "custom", "date_of_birth", "phone", "owner_id", "version", "lifecycle_stage")
    stored = {c["id"]: c for c in Contact.objects.filter(pk__in=[few, many[0]]).values("id", *fields)}
    assert {k: v for k, v in stored[few].items() if k != "id"} == {
        k: v for k, v in stored[many[0]].items() if k != "id"
    }
    assert stored[few]["custom"] == row["custom"] and stored[few]["name"] == row["name"]
