"""The audit chain: entries are sealed in id order into one hash chain; an entry edited, deleted,
moved or inserted afterwards, or sealed entries cut from the end, are found by ``verify_audit_log``
(exit status 1) at the first broken link."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from crm.core.choices import ChangeSource, JournalAction
from crm.core.models import JournalEntry, JournalSeal
from crm.core.security import audit_chain
from crm.core.tests.sample.models import Gadget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_grace(settings):
    settings.CRM_AUDIT_SEAL_GRACE_SECONDS = 0


@pytest.fixture
def journal(admin_user):
    for index in range(6):
        gadget = Gadget.objects.create(name=f"Item {index}", owner=admin_user)
        gadget.name = f"Item {index} renamed"
        gadget.save()
    ids = list(JournalEntry.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) >= 12
    return ids


def _verify() -> audit_chain.VerifyResult:
    audit_chain.seal()
    return audit_chain.verify()


def _command(*args: str) -> tuple[int, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_log", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_sealing_links_every_entry_to_the_one_before(journal):
    result = audit_chain.seal()
    assert result.sealed == len(journal) and result.pending == 0
    rows = list(JournalEntry.objects.order_by("id").values("id", "prev_hash", "entry_hash"))
    assert rows[0]["prev_hash"] == audit_chain.GENESIS
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["entry_hash"] and len(after["entry_hash"]) == 64
    seal = JournalSeal.objects.get()
    assert (seal.last_id, seal.last_hash) == (rows[-1]["id"], rows[-1]["entry_hash"])
    assert audit_chain.seal().sealed == 0  # nothing new: nothing changes
    verified = audit_chain.verify()
    assert verified.ok and verified.checked == len(journal) and verified.unsealed == 0


def test_the_command_reports_an_intact_chain_and_its_head(journal):
    code, output = _command()
    assert code == 0
    head = JournalSeal.objects.get()
    assert f"#{head.last_id} {head.last_hash}" in output and "intact" in output


def test_new_entries_are_sealed_after_the_old_ones(journal, admin_user):
    audit_chain.seal()
    Gadget.objects.create(name="Later", owner=admin_user)
    assert audit_chain.verify().unsealed == 1
    assert audit_chain.seal().sealed == 1
    assert audit_chain.verify().ok


def test_an_edited_entry_is_found(journal):
    audit_chain.seal()
    target = journal[4]
    entry = JournalEntry.objects.get(pk=target)
    JournalEntry.objects.filter(pk=target).update(changes={**entry.changes, "name": ["Item", "Forged"]})
    result = audit_chain.verify()
    assert not result.ok and result.problems[0].entry_id == target and result.problems[0].kind == "changed"
    code, output = _command()
    assert code == 1 and f"#{target} was changed" in output


@pytest.mark.parametrize("column", ["actor_repr", "object_repr", "action", "timestamp"])
def test_any_edited_field_is_found(journal, column):
    audit_chain.seal()
    target = journal[2]
    value = {
        "actor_repr": "someone else",
        "object_repr": "another record",
        "action": JournalAction.DELETE,
        "timestamp": timezone.now() - dt.timedelta(days=400),
    }[column]
    JournalEntry.objects.filter(pk=target).update(**{column: value})
    result = audit_chain.verify()
    assert [(p.entry_id, p.kind) for p in result.problems] == [(target, "changed")]


def test_a_deleted_entry_is_found(journal):
    audit_chain.seal()
    JournalEntry.objects.filter(pk=journal[5]).delete()
    result = audit_chain.verify()
    assert [(p.entry_id, p.kind) for p in result.problems] == [(journal[6], "link")]
    code, output = _command()
    assert code == 1 and f"before entry #{journal[6]}" in output


def test_a_deleted_first_entry_is_found(journal):
    audit_chain.seal()
    JournalEntry.objects.filter(pk=journal[0]).delete()
    assert [(p.entry_id, p.kind) for p in audit_chain.verify().problems] == [(journal[1], "link")]


def test_entries_cut_from_the_end_are_found(journal):
    audit_chain.seal()
    JournalEntry.objects.filter(pk__in=journal[-2:]).delete()
    result = audit_chain.verify()
    assert [p.kind for p in result.problems] == ["missing_tail"]
    assert _command("--no-seal")[0] == 1


def test_reordered_entries_are_found(journal):
    """Two entries swap places (each takes the other's sequence number)."""
    audit_chain.seal()
    first, second = journal[3], journal[4]
    spare = max(journal) + 1000
    with transaction.atomic():
        JournalEntry.objects.filter(pk=first).update(id=spare)
        JournalEntry.objects.filter(pk=second).update(id=first)
        JournalEntry.objects.filter(pk=spare).update(id=second)
    result = audit_chain.verify()
    assert not result.ok and result.problems[0].entry_id == first


def test_swapped_contents_are_found(journal):
    audit_chain.seal()
    a, b = (JournalEntry.objects.get(pk=pk) for pk in (journal[1], journal[2]))
    JournalEntry.objects.filter(pk=a.pk).update(changes=b.changes, object_repr=b.object_repr, action=b.action)
    JournalEntry.objects.filter(pk=b.pk).update(changes=a.changes, object_repr=a.object_repr, action=a.action)
    assert audit_chain.verify().problems[0].entry_id == a.pk


def test_an_entry_inserted_below_the_head_is_found(journal):
    """A row slipped into a gap of the sequence after later entries were sealed."""
    JournalEntry.objects.filter(pk=journal[7]).delete()  # a rolled-back write leaves such a gap
    audit_chain.seal()
    assert audit_chain.verify().ok
    forged = JournalEntry.objects.get(pk=journal[6])
    forged.pk, forged.entry_hash, forged.prev_hash = journal[7], "", ""
    forged.object_repr = "Forged"
    forged.save(force_insert=True)
    result = audit_chain.verify()
    assert [(p.entry_id, p.kind) for p in result.problems] == [(journal[7], "unsealed")]
    # ...even when the forger computes a hash that links to the entry before it.
    previous = JournalEntry.objects.filter(pk=journal[6]).values("entry_hash").get()["entry_hash"]
    row = JournalEntry.objects.filter(pk=journal[7]).values(*audit_chain._FIELDS).get()
    JournalEntry.objects.filter(pk=journal[7]).update(
        prev_hash=previous, entry_hash=audit_chain.entry_hash(previous, row), content_hash=audit_chain.content_hash(row)
    )
    assert [(p.entry_id, p.kind) for p in audit_chain.verify().problems] == [(journal[8], "link")]


def test_all_problems_are_listed_on_request(journal):
    audit_chain.seal()
    JournalEntry.objects.filter(pk=journal[2]).update(object_repr="x")
    JournalEntry.objects.filter(pk=journal[8]).delete()
    result = audit_chain.verify(stop_at_first=False)
    assert [(p.entry_id, p.kind) for p in result.problems] == [(journal[2], "changed"), (journal[9], "link")]


def test_a_young_gap_waits_for_the_transaction_that_may_still_hold_it(journal, settings):
    """On PostgreSQL a running transaction may hold the missing id: sealing stops before the gap
    until the entry after it is older than the grace period (on SQLite writes take turns)."""
    from django.db import connection

    JournalEntry.objects.filter(pk=journal[5]).delete()
    settings.CRM_AUDIT_SEAL_GRACE_SECONDS = 300
    result = audit_chain.seal()
    if connection.vendor == "postgresql":
        assert result.sealed == 5 and result.pending == len(journal) - 6
        later = audit_chain.seal(now=timezone.now() + dt.timedelta(seconds=301))
        assert later.sealed == len(journal) - 6
    else:
        assert result.sealed == len(journal) - 1
    assert audit_chain.verify().ok


def test_sealing_in_small_batches_gives_the_same_chain(journal):
    audit_chain.seal(batch=5)
    small = list(JournalEntry.objects.order_by("id").values_list("entry_hash", flat=True))
    JournalEntry.objects.update(prev_hash="", entry_hash="")
    JournalSeal.objects.all().delete()
    audit_chain.seal()
    assert list(JournalEntry.objects.order_by("id").values_list("entry_hash", flat=True)) == small


def test_the_hash_ignores_the_actor_id_which_a_user_deletion_clears(journal):
    audit_chain.seal()
    JournalEntry.objects.update(actor=None)
    assert audit_chain.verify().ok


def test_a_busy_sealer_is_skipped_by_the_worker(journal):
    from crm.core.security.tasks import audit_seal_task

    assert audit_seal_task() == len(journal)
    assert audit_chain.verify().ok


def test_exports_and_every_path_are_sealed(journal, admin_user):
    from crm.core import context
    from crm.core.security.audit import record_export

    with context.change_context(actor=admin_user, source=ChangeSource.API):
        record_export(model=Gadget, fmt="csv", rows=3, filters={"name": "x"}, object_id="job-1")
        Gadget.objects.filter(name__startswith="Item").update(name="Bulk")
    audit_chain.seal()
    assert audit_chain.verify().ok
    JournalEntry.objects.filter(action=JournalAction.EXPORT).update(changes={"rows": 0})
    assert audit_chain.verify().problems[0].kind == "changed"
