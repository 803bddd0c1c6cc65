"""Merging records (crm/customers/merging/services.py): what moves, which values are kept, the journal,
the refusals that leave everything as it was, and an undo that restores exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from crm.core.exceptions import ConflictError
from crm.core.models import Attachment, JournalEntry
from crm.core.testing import api_client, journal_entries, make_user
from crm.customers import services
from crm.customers.merging import services as merging
from crm.customers.merging.relations import relations_to
from crm.customers.models import (
    Activity,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    DuplicateCandidate,
    Merge,
    PastCompany,
    Tag,
    Task,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def world(me):
    """Two contacts of one person (Ada) at Acme, each with their own rows, and a third contact."""
    vip, partner, press = (Tag.objects.create(name=name) for name in ("VIP", "Partner", "Press"))
    acme = services.company_create(actor=me, data={"name": "Acme Ltd"})
    initech = services.company_create(actor=me, data={"name": "Initech"})
    ada = services.contact_create(
        actor=me,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": acme,
            "lifecycle_stage": "customer",
            "emails": [{"email": "ada@acme.test"}],
            "phones": [{"number": "+8613812345678"}],
            "tags": [vip],
            "custom": {},
        },
    )
    Contact.objects.filter(pk=ada.pk).update(custom={"shoe": "38"})
    twin = services.contact_create(
        actor=me,
        data={
            "first_name": "Ada",
            "last_name": "Lovelac",
            "title": "CTO",
            "city": "London",
            "country": "GB",
            "emails": [{"email": "ada@acme.test"}, {"email": "ada@home.test", "is_primary": True}],
            "phones": [{"number": "+12125550100"}],
            "tags": [partner, vip],
        },
    )
    Contact.objects.filter(pk=twin.pk).update(custom={"shoe": "39", "pet": "cat"})
    services.contact_update(actor=me, contact=twin, data={"company": initech}, version=twin.version)
    services.contact_update(actor=me, contact=twin, data={"company": acme}, version=twin.version)
    other = services.contact_create(actor=me, data={"first_name": "Grace", "last_name": "Hopper", "tags": [press]})
    note = Activity.objects.create(kind="note", body="Met at the fair", contact=twin, owner=me)
    call = Activity.objects.create(kind="call", subject="Intro", contact=ada, owner=me)
    task = Task.objects.create(title="Send offer", contact=twin, assignee=me, owner=me)
    ada.refresh_from_db()
    twin.refresh_from_db()
    return {
        "acme": acme,
        "initech": initech,
        "ada": ada,
        "twin": twin,
        "other": other,
        "note": note,
        "call": call,
        "task": task,
        "tags": (vip, partner, press),
    }


def versions(*records):
    return {record.pk: Contact.objects.get(pk=record.pk).version for record in records}


def merge_twins(me, world, **kwargs):
    ada, twin = world["ada"], world["twin"]
    kwargs.setdefault("versions", versions(ada, twin))
    return merging.contact_merge(actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk, **kwargs)


def state():
    """Everything a merge may touch, to compare before and after."""
    return {
        "contacts": sorted(
            Contact.objects.values_list(
                "pk", "first_name", "last_name", "title", "company_id", "email", "phone", "city", "country", "custom"
            )
        ),
        "emails": sorted(ContactEmail.objects.values_list("pk", "contact_id", "email", "is_primary")),
        "phones": sorted(ContactPhone.objects.values_list("pk", "contact_id", "number", "is_primary")),
        "tags": sorted(Contact.tags.through.objects.values_list("contact_id", "tag_id")),
        "activities": sorted(Activity.objects.values_list("pk", "contact_id", "company_id")),
        "tasks": sorted(Task.objects.values_list("pk", "contact_id")),
        "past": sorted(PastCompany.objects.values_list("pk", "contact_id", "company_id")),
        "companies": sorted(Company.objects.values_list("pk", "name", "parent_id")),
        "candidates": sorted(
            DuplicateCandidate.objects.values_list("pk", "contact_a_id", "contact_b_id", "status", "reasons")
        ),
    }


# --- what moves and what is kept ------------------------------------------------------------------------


def test_related_rows_move_to_the_survivor_and_the_other_record_is_deleted(me, world):
    ada, twin = world["ada"], world["twin"]
    merge = merge_twins(me, world)

    assert not Contact.objects.filter(pk=twin.pk).exists()
    assert Activity.objects.get(pk=world["note"].pk).contact_id == ada.pk
    assert Activity.objects.get(pk=world["call"].pk).contact_id == ada.pk
    assert Task.objects.get(pk=world["task"].pk).contact_id == ada.pk
    assert list(PastCompany.objects.values_list("contact_id", "company_id")) == [(ada.pk, world["initech"].pk)]
    # Email addresses and phone numbers: all kept, the same address once.
    assert sorted(ContactEmail.objects.filter(contact=ada).values_list("email", flat=True)) == [
        "ada@acme.test",
        "ada@home.test",
    ]
    assert sorted(ContactPhone.objects.filter(contact=ada).values_list("number", flat=True)) == [
        "+12125550100",
        "+8613812345678",
    ]
    assert set(ada.tags.values_list("name", flat=True)) == {"VIP", "Partner"}
    assert merge.entity == "contact" and merge.survivor_id == ada.pk and merge.merged_ids == [twin.pk]
    assert merge.snapshot["names"] == {str(twin.pk): "Ada Lovelac"}


def test_values_are_taken_from_the_records_chosen(me, world):
    ada, twin = world["ada"], world["twin"]
    merge_twins(
        me,
        world,
        choices={"name": twin.pk, "email": twin.pk, "phone": ada.pk, "lifecycle_stage": ada.pk, "custom.shoe": twin.pk},
    )
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.name) == ("Ada", "Lovelac", "Ada Lovelac")
    # Parts not chosen: the survivor's value, or another record's when the survivor has none.
    assert ada.title == "CTO" and (ada.city, ada.country) == ("London", "GB")
    assert ada.lifecycle_stage == "customer"
    assert ada.custom == {"shoe": "39", "pet": "cat"}
    # The primary email is the chosen record's primary one; exactly one primary of each.
    assert ada.email == "ada@home.test" and ada.phone == "+8613812345678"
    assert list(ada.emails.filter(is_primary=True).values_list("email", flat=True)) == ["ada@home.test"]
    assert list(ada.phones.filter(is_primary=True).values_list("number", flat=True)) == ["+8613812345678"]


def test_the_merge_is_journaled(me, world):
    ada, twin = world["ada"], world["twin"]
    merge = merge_twins(me, world)
    survivor_update = journal_entries(ada).last()
    assert survivor_update.action == "update" and survivor_update.changes["title"] == ["", "CTO"]
    deletion = journal_entries(twin).last()
    assert deletion.action == "delete" and deletion.changes["last_name"] == ["Lovelac", None]
    moved = journal_entries(world["note"]).last()
    assert moved.changes == {"contact": [twin.pk, ada.pk]}
    merge_entry = journal_entries(merge).get()
    assert merge_entry.action == "create" and merge_entry.changes["merged_ids"] == [None, [twin.pk]]
    assert "snapshot" not in merge_entry.changes  # copies of the merged records stay out of the journal


def test_duplicate_pairs_follow_the_merge(me, world):
    ada, twin, other = world["ada"], world["twin"], world["other"]
    third = services.contact_create(actor=me, data={"first_name": "Ada", "last_name": "L."})
    inside = DuplicateCandidate.objects.create(entity="contact", contact_a=ada, contact_b=twin, score=90)
    moved = DuplicateCandidate.objects.create(entity="contact", contact_a=twin, contact_b=other, score=70)
    both = DuplicateCandidate.objects.create(entity="contact", contact_a=ada, contact_b=third, score=60)
    repeated = DuplicateCandidate.objects.create(entity="contact", contact_a=twin, contact_b=third, score=65)
    merge_twins(me, world)
    assert not DuplicateCandidate.objects.filter(pk__in=[inside.pk, repeated.pk]).exists()
    moved.refresh_from_db()
    assert (moved.contact_a_id, moved.contact_b_id) == (ada.pk, other.pk)
    assert DuplicateCandidate.objects.filter(pk=both.pk).exists()


def test_relations_of_other_modules_are_found_without_naming_them():
    labels = {relation.label for relation in relations_to(Contact)}
    assert {
        "customers.activity.contact",
        "customers.task.contact",
        "customers.contactemail.contact",
        "customers.contactphone.contact",
        "customers.pastcompany.contact",
    } <= labels
    company_labels = {relation.label for relation in relations_to(Company)}
    assert {"customers.contact.company", "customers.company.parent", "customers.pastcompany.company"} <= company_labels


def test_attachments_move_with_the_record(me, world):
    from django.contrib.contenttypes.models import ContentType

    twin = world["twin"]
    attachment = Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=twin.pk,
        file="attachments/x",
        name="cv.pdf",
        mime_type="application/pdf",
        size=3,
        sha256="0" * 64,
    )
    merge = merge_twins(me, world)
    attachment.refresh_from_db()
    assert attachment.object_id == world["ada"].pk
    merging.merge_undo(actor=me, merge=merge)
    attachment.refresh_from_db()
    assert attachment.object_id == twin.pk


# --- companies ---------------------------------------------------------------------------------------------


@pytest.fixture
def groups(me):
    holding = services.company_create(actor=me, data={"name": "Holding"})
    acme = services.company_create(actor=me, data={"name": "Acme", "website": "https://acme.test"})
    acme_inc = services.company_create(actor=me, data={"name": "ACME Inc", "parent": holding, "industry": "Retail"})
    daughter = services.company_create(actor=me, data={"name": "Acme Daughter", "parent": acme_inc})
    worker = services.contact_create(actor=me, data={"full_name": "王芳", "company": acme_inc})
    former = services.contact_create(actor=me, data={"full_name": "李伟"})
    PastCompany.objects.create(contact=former, company=acme_inc, title="CEO")
    deal_note = Activity.objects.create(kind="note", body="Renewal", company=acme_inc, owner=me)
    return {
        "holding": holding,
        "acme": acme,
        "acme_inc": acme_inc,
        "daughter": daughter,
        "worker": worker,
        "former": former,
        "note": deal_note,
    }


def company_versions(*records):
    return {record.pk: Company.objects.get(pk=record.pk).version for record in records}


def test_company_merge_moves_contacts_subsidiaries_past_contacts_and_activities(me, groups):
    acme, acme_inc = groups["acme"], groups["acme_inc"]
    merge = merging.company_merge(
        actor=me, ids=[acme.pk, acme_inc.pk], survivor_id=acme.pk, versions=company_versions(acme, acme_inc)
    )
    acme.refresh_from_db()
    assert not Company.objects.filter(pk=acme_inc.pk).exists()
    assert Contact.objects.get(pk=groups["worker"].pk).company_id == acme.pk
    assert Company.objects.get(pk=groups["daughter"].pk).parent_id == acme.pk
    assert PastCompany.objects.get(contact=groups["former"]).company_id == acme.pk
    assert Activity.objects.get(pk=groups["note"].pk).company_id == acme.pk
    # The survivor had no parent and no industry: the other's are kept.
    assert acme.parent_id == groups["holding"].pk and acme.industry == "Retail" and acme.domain == "acme.test"

    merging.merge_undo(actor=me, merge=merge)
    acme_inc = Company.objects.get(pk=acme_inc.pk)
    assert (acme_inc.name, acme_inc.parent_id, acme_inc.industry) == ("ACME Inc", groups["holding"].pk, "Retail")
    assert Contact.objects.get(pk=groups["worker"].pk).company_id == acme_inc.pk
    assert Company.objects.get(pk=groups["daughter"].pk).parent_id == acme_inc.pk
    assert PastCompany.objects.get(contact=groups["former"]).company_id == acme_inc.pk
    acme.refresh_from_db()
    assert acme.parent_id is None and acme.industry == ""


def test_a_company_cannot_become_its_own_parent(me, groups):
    acme_inc, daughter = groups["acme_inc"], groups["daughter"]
    before = sorted(Company.objects.values_list("pk", "parent_id"))
    with pytest.raises(ValidationError) as caught:
        merging.company_merge(
            actor=me,
            ids=[daughter.pk, acme_inc.pk],
            survivor_id=daughter.pk,
            choices={"parent": daughter.pk},
            versions=company_versions(daughter, acme_inc),
        )
    assert "parent" in caught.value.message_dict
    assert sorted(Company.objects.values_list("pk", "parent_id")) == before
    # Left to the defaults, the parent inside the merge is passed over for the other record's parent.
    merging.company_merge(
        actor=me, ids=[daughter.pk, acme_inc.pk], survivor_id=daughter.pk, versions=company_versions(daughter, acme_inc)
    )
    assert Company.objects.get(pk=daughter.pk).parent_id == groups["holding"].pk


def test_a_subsidiary_and_its_parent_merged_into_a_third_company(me, groups):
    acme, acme_inc, daughter = groups["acme"], groups["acme_inc"], groups["daughter"]
    merge = merging.company_merge(
        actor=me,
        ids=[acme.pk, acme_inc.pk, daughter.pk],
        survivor_id=acme.pk,
        versions=company_versions(acme, acme_inc, daughter),
    )
    assert set(Company.objects.values_list("name", flat=True)) == {"Holding", "Acme"}
    merging.merge_undo(actor=me, merge=merge)
    assert Company.objects.get(pk=daughter.pk).parent_id == acme_inc.pk
    assert Company.objects.get(pk=acme_inc.pk).parent_id == groups["holding"].pk


# --- undo ---------------------------------------------------------------------------------------------------


def test_undo_restores_ids_values_and_relations_exactly(me, world):
    ada, twin = world["ada"], world["twin"]
    DuplicateCandidate.objects.create(entity="contact", contact_a=ada, contact_b=twin, score=90, reasons=["email"])
    DuplicateCandidate.objects.create(
        entity="contact", contact_a=twin, contact_b=world["other"], score=50, status="dismissed"
    )
    before = state()
    twin_row = Contact.objects.filter(pk=twin.pk).values().get()
    merge = merge_twins(me, world, choices={"name": twin.pk, "email": twin.pk, "custom.shoe": twin.pk})
    assert state() != before

    undone = merging.merge_undo(actor=me, merge=merge)

    assert state() == before
    back = Contact.objects.filter(pk=twin.pk).values().get()
    assert {k: v for k, v in back.items() if k != "updated_at"} == {
        k: v for k, v in twin_row.items() if k != "updated_at"
    }
    assert undone.undone_at is not None and undone.undone_by == me
    actions = list(journal_entries(twin).values_list("action", flat=True))
    assert actions[actions.index("delete") + 1] == "create"  # recreated, in the journal
    assert journal_entries(merge).last().changes["undone_by"] == [None, me.pk]


def test_undo_keeps_survivor_values_changed_since_the_merge(me, world):
    ada = world["ada"]
    merge = merge_twins(me, world)
    ada.refresh_from_db()
    services.contact_update(actor=me, contact=ada, data={"title": "Chief"}, version=ada.version)
    undone = merging.merge_undo(actor=me, merge=merge)
    ada.refresh_from_db()
    assert ada.title == "Chief" and ada.city == ""
    assert undone.snapshot["undo"]["kept"] == ["title"]


def test_undo_is_refused_when_the_survivor_was_deleted(me, world):
    ada = world["ada"]
    merge = merge_twins(me, world)
    Activity.objects.filter(contact=ada).delete()
    Task.objects.filter(contact=ada).delete()
    services.contact_delete(actor=me, contact=Contact.objects.get(pk=ada.pk))
    with pytest.raises(ValidationError, match="deleted"):
        merging.merge_undo(actor=me, merge=merge)
    assert Merge.objects.get(pk=merge.pk).undone_at is None
    assert not Contact.objects.filter(pk=world["twin"].pk).exists()


def test_undo_only_once_within_thirty_days_by_the_merger_or_an_administrator(me, world, admin_user):
    merge = merge_twins(me, world)
    colleague = make_user(module="customers")
    with pytest.raises(PermissionDenied):
        merging.merge_undo(actor=colleague, merge=merge)
    Merge.objects.filter(pk=merge.pk).update(created_at=timezone.now() - timedelta(days=31))
    with pytest.raises(ValidationError, match="30 days"):
        merging.merge_undo(actor=me, merge=Merge.objects.get(pk=merge.pk))
    Merge.objects.filter(pk=merge.pk).update(created_at=timezone.now() - timedelta(days=29))
    merging.merge_undo(actor=admin_user, merge=Merge.objects.get(pk=merge.pk))
    with pytest.raises(ValidationError, match="already undone"):
        merging.merge_undo(actor=me, merge=Merge.objects.get(pk=merge.pk))


# --- refusals: nothing changes --------------------------------------------------------------------------------


def test_a_stale_version_is_refused(me, world):
    ada, twin = world["ada"], world["twin"]
    seen = versions(ada, twin)
    services.contact_update(actor=me, contact=twin, data={"title": "CEO"}, version=twin.version)
    before, journal_size = state(), JournalEntry.objects.count()
    with pytest.raises(ConflictError):
        merging.contact_merge(actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk, versions=seen)
    assert state() == before and JournalEntry.objects.count() == journal_size and not Merge.objects.exists()


def test_out_of_scope_records_are_not_found(me, world):
    stranger = make_user(module="customers", scope="own")
    theirs = services.contact_create(actor=stranger, data={"first_name": "Ada", "last_name": "Lovelace"})
    before = state()
    with pytest.raises(Http404):
        merging.contact_merge(actor=me, ids=[world["ada"].pk, theirs.pk], survivor_id=world["ada"].pk)
    with pytest.raises(Http404):
        merging.contact_merge(actor=stranger, ids=[world["ada"].pk, theirs.pk], survivor_id=theirs.pk)
    assert state() == before


def company_state():
    """``state()`` with every column of every company, the merges and the size of the journal."""
    return {
        **state(),
        "company_rows": sorted(tuple(sorted(row.items())) for row in Company.objects.values()),
        "company_tags": sorted(Company.tags.through.objects.values_list("company_id", "tag_id")),
        "merges": Merge.objects.count(),
        "journal": JournalEntry.objects.count(),
    }


def test_out_of_scope_companies_are_not_found(me, groups, client):
    stranger = make_user(module="customers", scope="own")
    theirs = services.company_create(
        actor=stranger, data={"name": "ACME Corp", "website": "https://acme-corp.test", "industry": "Retail"}
    )
    services.company_create(actor=stranger, data={"name": "ACME Corp Daughter", "parent": theirs})
    services.contact_create(actor=stranger, data={"full_name": "Their Worker", "company": theirs})
    Activity.objects.create(kind="note", body="Theirs", company=theirs, owner=stranger)
    theirs.tags.add(Tag.objects.create(name="Key account"))
    acme = groups["acme"]
    seen = company_versions(acme, theirs)
    before = company_state()

    attempts = [
        (me, [acme.pk, theirs.pk], acme.pk),  # mine survives, theirs would be deleted
        (me, [acme.pk, theirs.pk], theirs.pk),  # theirs survives, mine would be deleted
        (me, [theirs.pk, groups["acme_inc"].pk], groups["acme_inc"].pk),
        (stranger, [acme.pk, theirs.pk], theirs.pk),  # the other way round
        (stranger, [acme.pk, groups["acme_inc"].pk], acme.pk),  # only records they cannot see
    ]
    for actor, ids, survivor in attempts:
        versions = {pk: Company.objects.get(pk=pk).version for pk in ids}
        with pytest.raises(Http404):
            merging.company_merge(actor=actor, ids=ids, survivor_id=survivor, versions=versions)
        with pytest.raises(Http404):
            merging.company_merge(actor=actor, ids=ids, survivor_id=survivor)
        assert company_state() == before

    body = {
        "entity": "company",
        "ids": [acme.pk, theirs.pk],
        "survivor": acme.pk,
        "versions": {str(pk): version for pk, version in seen.items()},
    }
    response = api_client(me).post("/api/v1/merges/", body, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    client.force_login(me)
    screen = f"{reverse('customers:company_merge')}?ids={acme.pk}&ids={theirs.pk}"
    assert client.get(screen).status_code == 404
    posted = client.post(
        reverse("customers:company_merge"),
        {"ids": [acme.pk, theirs.pk], "survivor": acme.pk, **{f"version-{pk}": v for pk, v in seen.items()}},
    )
    assert posted.status_code == 404
    assert company_state() == before

    # The same merge by someone who sees both companies goes through: the snapshot sees what a merge changes.
    boss = make_user(module="customers", scope="all")
    merging.company_merge(actor=boss, ids=[acme.pk, theirs.pk], survivor_id=acme.pk, versions=seen)
    assert company_state() != before


def test_merging_needs_edit_and_delete_permission(world):
    editor = make_user(module="customers", actions=("view", "create", "edit"))
    before = state()
    with pytest.raises(PermissionDenied):
        merging.contact_merge(actor=editor, ids=[world["ada"].pk, world["twin"].pk], survivor_id=world["ada"].pk)
    assert state() == before


@pytest.mark.parametrize(
    ("ids", "survivor", "field"),
    [
        ("ada ada", "ada", "ids"),  # a record with itself
        ("ada", "ada", "ids"),  # a single record
        ("", "ada", "ids"),
        ("ada twin", "other", "survivor"),
    ],
)
def test_bad_selections_are_refused(me, world, ids, survivor, field):
    before = state()
    with pytest.raises(ValidationError) as caught:
        merging.contact_merge(actor=me, ids=[world[name].pk for name in ids.split()], survivor_id=world[survivor].pk)
    assert field in caught.value.message_dict
    assert state() == before


@pytest.mark.parametrize("ids", [["1", "2"], [True, 2], [0, 1], "12", None])
def test_ids_of_the_wrong_kind_are_refused(me, world, ids):
    before = state()
    with pytest.raises(ValidationError):
        merging.contact_merge(actor=me, ids=ids, survivor_id=world["ada"].pk)
    assert state() == before


def test_unknown_ids_are_not_found_and_change_nothing(me, world):
    before = state()
    with pytest.raises(Http404):
        merging.contact_merge(actor=me, ids=[world["ada"].pk, 999_999], survivor_id=world["ada"].pk)
    assert state() == before


def test_bad_choices_are_refused(me, world):
    ada, twin = world["ada"], world["twin"]
    before = state()
    with pytest.raises(ValidationError) as caught:
        merge_twins(me, world, choices={"name": world["other"].pk, "password": ada.pk, "title": "x"})
    assert len(caught.value.message_dict["choices"]) == 3
    with pytest.raises(ValidationError):
        merging.contact_merge(
            actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk, versions={ada.pk: ada.version}
        )  # a version missing
    assert state() == before


def test_a_parent_and_its_subsidiary_merged_into_the_subsidiary(me, groups):
    holding, acme_inc = groups["holding"], groups["acme_inc"]
    merging.company_merge(
        actor=me, ids=[acme_inc.pk, holding.pk], survivor_id=acme_inc.pk, versions=company_versions(acme_inc, holding)
    )
    acme_inc.refresh_from_db()
    assert acme_inc.parent_id is None and not Company.objects.filter(pk=holding.pk).exists()
