"""Bulk actions on picked rows: the services (crm/customers/bulk.py) and the list pages that call them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.core.testing import journal_entries, make_user
from crm.customers import bulk
from crm.customers.models import Company, Contact, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def stranger(roles):
    return make_user(module="customers", scope="own")


def contacts(owner, *names, **fields):
    return [Contact.objects.create(first_name=name, owner=owner, **fields) for name in names]


# --- services ----------------------------------------------------------------------------------------


def test_assign_owner_changes_only_records_in_scope_and_journals_them(me, stranger):
    mine = contacts(me, "Ada", "Grace")
    theirs = contacts(stranger, "Linus")
    new_owner = make_user(module="customers")
    versions = {c.pk: c.version for c in mine}

    changed = bulk.contact_bulk_assign_owner(actor=me, ids=[c.pk for c in mine + theirs], owner=new_owner)

    assert changed == 2
    assert set(Contact.objects.filter(owner=new_owner).values_list("pk", flat=True)) == {c.pk for c in mine}
    assert Contact.objects.get(pk=theirs[0].pk).owner == stranger
    for contact in mine:
        entry = journal_entries(contact).last()
        assert entry.action == "update" and entry.changes["owner"] == [me.pk, new_owner.pk]
        contact.refresh_from_db()
        assert contact.version == versions[contact.pk] + 1
    assert journal_entries(theirs[0]).filter(action="update").count() == 0


def test_assign_owner_counts_only_real_changes_and_refuses_inactive_users(me):
    mine = contacts(me, "Ada", "Grace")
    assert bulk.contact_bulk_assign_owner(actor=me, ids=[c.pk for c in mine], owner=me) == 0
    gone = make_user(module="customers")
    gone.is_active = False
    gone.save()
    with pytest.raises(ValidationError):
        bulk.contact_bulk_assign_owner(actor=me, ids=[mine[0].pk], owner=gone)


def test_ids_that_are_not_numbers_or_do_not_exist_are_ignored(me):
    (ada,) = contacts(me, "Ada")
    assert (
        bulk.contact_bulk_set_lifecycle_stage(actor=me, ids=["x", "", "-3", 999999, str(ada.pk)], stage="customer") == 1
    )
    ada.refresh_from_db()
    assert ada.lifecycle_stage == "customer"


def test_add_and_remove_a_tag(me, stranger):
    vip = Tag.objects.create(name="VIP")
    ada, grace = contacts(me, "Ada", "Grace")
    (linus,) = contacts(stranger, "Linus")
    grace.tags.add(vip)

    assert bulk.contact_bulk_add_tag(actor=me, ids=[ada.pk, grace.pk, linus.pk], tag=vip) == 1
    assert set(vip.contacts.values_list("pk", flat=True)) == {ada.pk, grace.pk}
    assert journal_entries(ada).last().changes == {"tags": {"add": [vip.pk]}}

    assert bulk.contact_bulk_remove_tag(actor=me, ids=[ada.pk, grace.pk, linus.pk], tag=vip) == 2
    assert not vip.contacts.exists()
    assert journal_entries(grace).last().changes == {"tags": {"remove": [vip.pk]}}


def test_change_lifecycle_stage(me):
    ada, grace = contacts(me, "Ada", "Grace")
    assert bulk.contact_bulk_set_lifecycle_stage(actor=me, ids=[ada.pk, grace.pk], stage="customer") == 2
    assert set(Contact.objects.values_list("lifecycle_stage", flat=True)) == {"customer"}
    assert journal_entries(ada).last().changes == {"lifecycle_stage": ["lead", "customer"]}
    with pytest.raises(ValidationError):
        bulk.contact_bulk_set_lifecycle_stage(actor=me, ids=[ada.pk], stage="king")


def test_editing_needs_the_edit_permission(roles):
    reader = make_user(module="customers", actions=("view",), scope="all")
    (ada,) = contacts(reader, "Ada")
    with pytest.raises(PermissionDenied):
        bulk.contact_bulk_set_lifecycle_stage(actor=reader, ids=[ada.pk], stage="customer")
    with pytest.raises(PermissionDenied):
        bulk.contact_bulk_add_tag(actor=reader, ids=[ada.pk], tag=Tag.objects.create(name="VIP"))
    ada.refresh_from_db()
    assert ada.lifecycle_stage == "lead"


def test_delete_needs_the_delete_permission_and_stays_in_scope(roles, stranger):
    rep = make_user(module="customers", actions=("view", "create", "edit"), scope="own")
    (ada,) = contacts(rep, "Ada")
    with pytest.raises(PermissionDenied):
        bulk.contact_bulk_delete(actor=rep, ids=[ada.pk])

    manager = make_user(module="customers", scope="own")
    mine = contacts(manager, "Grace", "Hedy")
    (linus,) = contacts(stranger, "Linus")
    assert bulk.contact_bulk_delete(actor=manager, ids=[c.pk for c in mine] + [linus.pk, ada.pk]) == 2
    assert set(Contact.objects.values_list("pk", flat=True)) == {ada.pk, linus.pk}
    assert journal_entries(mine[0]).last().action == "delete"


def test_company_bulk_delete_keeps_companies_still_in_use(me):
    used = Company.objects.create(name="Used", owner=me)
    Contact.objects.create(first_name="Ada", company=used, owner=me)
    holding = Company.objects.create(name="Holding", owner=me)
    daughter = Company.objects.create(name="Daughter", owner=me, parent=holding)
    alone = Company.objects.create(name="Alone", owner=me)

    deleted = bulk.company_bulk_delete(actor=me, ids=[used.pk, holding.pk, daughter.pk, alone.pk])

    assert deleted == 3  # the daughter first, then its parent; the company with a contact stays
    assert list(Company.objects.values_list("name", flat=True)) == ["Used"]


def test_company_bulk_actions(me, stranger):
    vip = Tag.objects.create(name="VIP")
    mine = Company.objects.create(name="Mine", owner=me)
    theirs = Company.objects.create(name="Theirs", owner=stranger)
    assert bulk.company_bulk_add_tag(actor=me, ids=[mine.pk, theirs.pk], tag=vip) == 1
    assert bulk.company_bulk_assign_owner(actor=me, ids=[mine.pk, theirs.pk], owner=stranger) == 1
    assert list(vip.companies.all()) == [mine]
    assert Company.objects.filter(owner=stranger).count() == 2


# --- pages -------------------------------------------------------------------------------------------


def test_a_bulk_action_from_the_list_flashes_and_returns_to_the_same_view(client, me, stranger):
    ada, grace = contacts(me, "Ada", "Grace")
    (linus,) = contacts(stranger, "Linus")
    client.force_login(me)
    back = reverse("customers:contact_list") + "?lifecycle_stage=lead"
    response = client.post(
        reverse("customers:contact_bulk"),
        {"ids": [ada.pk, grace.pk, linus.pk], "action": "set_stage", "lifecycle_stage": "customer", "next": back},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == back
    assert "2 contacts changed." in response.content.decode()
    assert Contact.objects.get(pk=linus.pk).lifecycle_stage == "lead"


def test_bulk_page_refuses_a_user_without_permission(client, roles):
    reader = make_user(module="customers", actions=("view",), scope="all")
    (ada,) = contacts(reader, "Ada")
    client.force_login(reader)
    response = client.post(
        reverse("customers:contact_bulk"), {"ids": [ada.pk], "action": "set_stage", "lifecycle_stage": "customer"}
    )
    assert response.status_code == 403
    response = client.post(reverse("customers:contact_bulk"), {"ids": [ada.pk], "action": "delete", "confirm": "1"})
    assert response.status_code == 403
    assert Contact.objects.filter(pk=ada.pk, lifecycle_stage="lead").exists()


def test_bulk_delete_asks_first(client, me, stranger):
    ada, grace = contacts(me, "Ada", "Grace")
    (linus,) = contacts(stranger, "Linus Hidden")
    client.force_login(me)
    url = reverse("customers:contact_bulk")
    ids = [ada.pk, grace.pk, linus.pk]

    response = client.post(url, {"ids": ids, "action": "delete"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Delete 2 contacts?" in page and "Linus Hidden" not in page
    assert Contact.objects.count() == 3

    response = client.post(url, {"ids": ids, "action": "delete", "confirm": "1"}, follow=True)
    assert "2 contacts deleted." in response.content.decode()
    assert list(Contact.objects.values_list("pk", flat=True)) == [linus.pk]


def test_bulk_without_rows_or_value_explains_itself(client, me):
    (ada,) = contacts(me, "Ada")
    client.force_login(me)
    url = reverse("customers:contact_bulk")
    response = client.post(url, {"action": "set_stage", "lifecycle_stage": "customer"}, follow=True)
    assert "Select at least one row first." in response.content.decode()
    response = client.post(url, {"ids": [ada.pk], "action": "add_tag"}, follow=True)
    assert "Choose a value for this action." in response.content.decode()


def test_bulk_never_redirects_to_another_site(client, me):
    (ada,) = contacts(me, "Ada")
    client.force_login(me)
    response = client.post(
        reverse("customers:contact_bulk"),
        {"ids": [ada.pk], "action": "set_stage", "lifecycle_stage": "customer", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("customers:contact_list")


def test_company_bulk_delete_page_says_what_was_kept(client, me):
    used = Company.objects.create(name="Used", owner=me)
    Contact.objects.create(first_name="Ada", company=used, owner=me)
    free = Company.objects.create(name="Free", owner=me)
    client.force_login(me)
    response = client.post(
        reverse("customers:company_bulk"), {"ids": [used.pk, free.pk], "action": "delete", "confirm": "1"}, follow=True
    )
    page = response.content.decode()
    assert "1 company deleted." in page and "1 company was kept" in page
    assert list(Company.objects.values_list("name", flat=True)) == ["Used"]


def test_the_delete_confirmation_tells_namesakes_apart(client, me):
    from crm.customers import services

    acme = Company.objects.create(name="Acme", owner=me, domain="acme.example", city="Berlin")
    first = services.contact_create(
        actor=me, data={"full_name": "Alice Smith", "company": acme, "emails": [{"email": "alice@acme.example"}]}
    )
    second = services.contact_create(
        actor=me, data={"full_name": "Alice Smith", "emails": [{"email": "a.smith@home.example"}]}
    )
    client.force_login(me)
    page = client.post(
        reverse("customers:contact_bulk"), {"ids": [first.pk, second.pk], "action": "delete"}
    ).content.decode()
    assert "alice@acme.example · Acme" in page and "a.smith@home.example" in page
    companies = client.post(reverse("customers:company_bulk"), {"ids": [acme.pk], "action": "delete"}).content.decode()
    assert "acme.example · Berlin" in companies
