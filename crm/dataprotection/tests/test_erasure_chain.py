"""A privacy erasure blanks the journal's copies of a person's values without breaking the
tamper-evident chain; editing any other entry is still caught."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.core.models import JournalEntry
from crm.core.security import audit_chain
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db


def test_an_erasure_keeps_the_chain_intact_and_other_edits_are_still_caught(roles):
    from crm.core.testing import make_user
    from crm.dataprotection.erasure import erase_subject

    owner = make_user(module="customers")
    person = Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=owner)
    other = Contact.objects.create(first_name="Grace", last_name="Hopper", owner=owner)
    # Past the grace period for gaps in the ids (PostgreSQL), so that everything written is sealed.
    later = timezone.now() + dt.timedelta(hours=1)
    assert audit_chain.seal(now=later).sealed >= 2
    erase_subject(kind="contact", subject_id=person.pk, state={}, save_state=lambda state: None)
    scrubbed = JournalEntry.objects.filter(object_id=str(person.pk), content_type__model="contact").first()
    assert scrubbed.changes.get("erased") is True and "Lovelace" not in str(scrubbed.changes)
    audit_chain.seal(now=later)
    result = audit_chain.verify()
    assert result.ok and result.erased >= 1
    tampered = JournalEntry.objects.filter(object_id=str(other.pk), content_type__model="contact").first()
    JournalEntry.objects.filter(pk=tampered.pk).update(object_repr="Someone else")
    result = audit_chain.verify()
    assert not result.ok and result.problems[0].entry_id == tampered.pk
