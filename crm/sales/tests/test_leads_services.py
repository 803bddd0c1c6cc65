"""Writes of leads: validation (a clear field error and nothing written), edit conflicts, status,
bulk assignment, the log of activities and the response clock, deletion, and search."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.core.exceptions import ConflictError
from crm.core.models import JournalEntry, Notification
from crm.core.testing import journal_entries, make_user
from crm.customers.models import Activity
from crm.sales.leads import selectors, services
from crm.sales.models import Lead
from crm.sales.tests.factories import make_lead

pytestmark = pytest.mark.django_db

BOTH = {"sales": ["view", "create", "edit", "delete"], "customers": ["view", "create", "edit"]}


@pytest.fixture
def rep(roles):
    from crm.accounts.tests.factories import RoleFactory, UserFactory

    return UserFactory(username="rep", role=RoleFactory(permissions=BOTH, data_scope="own"))


@pytest.fixture
def colleague(roles):
    from crm.accounts.tests.factories import RoleFactory, UserFactory

    return UserFactory(username="mate", role=RoleFactory(permissions=BOTH, data_scope="own"))


def _errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


# --- create ------------------------------------------------------------------------------------------


def test_create_cleans_what_people_type(rep):
    lead = services.lead_create(
        actor=rep,
        data={
            "first_name": " Grace ",
            "last_name": "Hopper",
            "email": " Grace@Navy.MIL ",
            "phone": "+1 (212) 555-0100",
            "website": "navy.mil",
            "country": "us",
            "company_size": "51-200",
            "source": "referral",
        },
    )
    lead.refresh_from_db()
    assert lead.name == "Grace Hopper"
    assert lead.email == "grace@navy.mil"
    assert lead.phone == "+12125550100"
    assert lead.website == "https://navy.mil"
    assert lead.country == "US"
    assert lead.owner == rep and lead.assigned_at is not None
    assert journal_entries(lead).get().action == "create"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "X", "email": "not an email"}, "email"),
        ({"name": "X", "phone": "12"}, "phone"),
        ({"name": "X", "phone": "call me maybe"}, "phone"),
        ({"name": "x" * 10 * 1024 * 1024}, "name"),
        ({"first_name": "y" * 10 * 1024 * 1024}, "first_name"),
        ({"name": "X", "country": "Narnia"}, "country"),
        ({"name": "X", "company_size": "huge"}, "company_size"),
        ({"name": "X", "source": "pigeon"}, "source"),
        ({"name": "X", "status": "won"}, "status"),
        ({"name": "X", "status": "converted"}, "status"),
        ({"name": "X", "website": "ftp://files.example.com"}, "website"),
        ({"name": "X", "shoe_size": 44}, "shoe_size"),
        ({}, "name"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(rep, data, field):
    journal_before = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=rep, data=data)
    assert field in _errors(exc)
    assert not Lead.objects.exists()
    assert JournalEntry.objects.count() == journal_before


def test_every_problem_is_reported_at_once(rep):
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=rep, data={"name": "X", "email": "nope", "phone": "nope", "country": "ZZZ"})
    assert {"email", "phone", "country"} <= set(_errors(exc))


def test_a_chinese_lead_is_named_family_name_first(rep):
    lead = services.lead_create(actor=rep, data={"first_name": "小明", "last_name": "王"})
    assert lead.name == "王小明"
    assert services.lead_create(actor=rep, data={"first_name": "Ada", "last_name": "Lovelace"}).name == "Ada Lovelace"


def test_a_name_from_the_email_when_nothing_else_is_given(rep):
    lead = services.lead_create(actor=rep, data={"email": "someone@example.com"})
    assert lead.name == "someone@example.com"


def test_create_needs_the_permission(roles):
    reader = make_user(module="sales", actions=("view",))
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=reader, data={"name": "X"})
    assert not Lead.objects.exists()


def test_an_owner_given_is_told_the_creator_is_not(rep, colleague):
    lead = services.lead_create(actor=rep, data={"name": "Mine"})
    assert not Notification.objects.filter(recipient=rep).exists()
    lead = services.lead_create(actor=rep, data={"name": "For you", "owner": colleague})
    note = Notification.objects.get(recipient=colleague)
    assert lead.name in note.title and note.url == lead.get_absolute_url()


def test_an_inactive_owner_is_refused(rep, colleague):
    colleague.is_active = False
    colleague.save()
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=rep, data={"name": "X", "owner": colleague})
    assert "owner" in _errors(exc)


# --- update ------------------------------------------------------------------------------------------


def test_update_and_a_stale_edit_is_a_conflict(rep):
    lead = make_lead(owner=rep)
    version = lead.version
    services.lead_update(actor=rep, lead=lead, data={"interest": "Platform"}, version=version)
    stale = Lead.objects.get(pk=lead.pk)
    stale.version = version
    before = journal_entries(lead).count()
    with pytest.raises(ConflictError):
        services.lead_update(actor=rep, lead=stale, data={"interest": "Something else"}, version=version)
    assert Lead.objects.get(pk=lead.pk).interest == "Platform"
    assert journal_entries(lead).count() == before


def test_bad_edit_changes_nothing(rep):
    lead = make_lead(owner=rep, phone="+12125550100")
    with pytest.raises(ValidationError) as exc:
        services.lead_update(actor=rep, lead=lead, data={"phone": "555", "name": "New"}, version=lead.version)
    assert "phone" in _errors(exc)
    lead.refresh_from_db()
    assert lead.phone == "+12125550100" and lead.name == "Lee Lead"


def test_the_owners_edit_counts_as_working_the_lead(rep, colleague):
    lead = make_lead(owner=rep)
    services.lead_update(actor=colleague, lead=lead, data={"interest": "A"}, version=lead.version)
    assert Lead.objects.get(pk=lead.pk).touched_at is None
    services.lead_update(actor=rep, lead=lead, data={"interest": "B"}, version=lead.version)
    assert Lead.objects.get(pk=lead.pk).touched_at is not None


def test_a_new_owner_starts_the_clock_again_and_is_told(rep, colleague):
    lead = make_lead(owner=rep)
    services.lead_update(actor=rep, lead=lead, data={"interest": "B"}, version=lead.version)
    lead = services.lead_update(actor=rep, lead=lead, data={"owner": colleague}, version=lead.version)
    lead.refresh_from_db()
    assert lead.owner == colleague and lead.touched_at is None and lead.assigned_at is not None
    assert Notification.objects.filter(recipient=colleague, url=lead.get_absolute_url()).exists()
    change = journal_entries(lead).last().changes
    assert change["owner"] == [rep.pk, colleague.pk]


def test_converted_is_reached_by_converting_only(rep):
    lead = make_lead(owner=rep)
    with pytest.raises(ValidationError) as exc:
        services.lead_update(actor=rep, lead=lead, data={"status": "converted"}, version=lead.version)
    assert "status" in _errors(exc)
    converted = make_lead(owner=rep, status="converted")
    with pytest.raises(ValidationError):
        services.lead_set_status(actor=rep, lead=converted, status="new")


def test_set_status_touches_and_is_journaled(rep):
    lead = make_lead(owner=rep)
    services.lead_set_status(actor=rep, lead=lead, status="qualified", version=lead.version)
    lead.refresh_from_db()
    assert lead.status == "qualified" and lead.touched_at is not None
    assert journal_entries(lead).last().changes == {"status": ["new", "qualified"]}
    with pytest.raises(ValidationError):
        services.lead_set_status(actor=rep, lead=lead, status="nonsense")


# --- activities, touching ------------------------------------------------------------------------------


def test_logging_an_activity_touches_the_lead(rep):
    lead = make_lead(owner=rep)
    activity = services.lead_log_activity(
        actor=rep, lead=lead, data={"kind": "call", "outcome": "connected", "body": "Talked about pricing"}
    )
    lead.refresh_from_db()
    assert lead.touched_at is not None
    assert activity.related == lead and activity.owner == rep
    assert list(selectors.lead_activities(lead=lead)) == [activity]
    # "last worked" is bookkeeping: not in the lead's history
    assert all("touched_at" not in entry.changes for entry in journal_entries(lead))


def test_a_bad_activity_changes_nothing(rep):
    lead = make_lead(owner=rep)
    with pytest.raises(ValidationError):
        services.lead_log_activity(actor=rep, lead=lead, data={"kind": "note", "body": ""})
    lead.refresh_from_db()
    assert lead.touched_at is None and not Activity.objects.exists()


def test_delete_takes_the_leads_own_activities_along(rep):
    lead = make_lead(owner=rep)
    services.lead_log_activity(actor=rep, lead=lead, data={"kind": "note", "body": "Hi"})
    pk = lead.pk
    services.lead_delete(actor=rep, lead=lead)
    assert not Lead.objects.exists() and not Activity.objects.exists()
    assert JournalEntry.objects.filter(object_id=str(pk), content_type__model="lead").first().action == "delete"


# --- bulk assignment -------------------------------------------------------------------------------------


def test_bulk_assign_changes_only_leads_in_scope(rep, colleague):
    mine = [make_lead(owner=rep, name=f"L{i}") for i in range(3)]
    theirs = make_lead(owner=colleague, name="Theirs")
    count = services.lead_bulk_assign_owner(
        actor=rep, ids=[lead.pk for lead in mine] + [theirs.pk, "junk"], owner=colleague
    )
    assert count == 3
    assert set(Lead.objects.filter(owner=colleague).values_list("pk", flat=True)) == {
        theirs.pk,
        *(lead.pk for lead in mine),
    }
    assert Notification.objects.filter(recipient=colleague).count() == 1
    for lead in mine:
        assert journal_entries(lead).last().changes["owner"] == [rep.pk, colleague.pk]
    with pytest.raises(ValidationError) as exc:
        services.lead_bulk_assign_owner(actor=rep, ids=[mine[0].pk], owner=None)
    assert "owner" in _errors(exc)


# --- search ------------------------------------------------------------------------------------------------


def test_search_by_name_email_company_and_phone_in_scope(rep, colleague):
    services.lead_create(
        actor=rep,
        data={
            "name": "Margaret Johnson",
            "email": "m.j@acme.com",
            "company_name": "Acme Robotics",
            "phone": "+86 138 1234 5678",
        },
    )
    services.lead_create(actor=colleague, data={"name": "Margaret Hidden", "email": "h@acme.com"})
    titles = lambda query: [r.title for r in selectors.lead_search(user=rep, query=query, limit=8)]  # noqa: E731
    assert titles("johnson") == ["Margaret Johnson"]
    assert titles("margaret") == ["Margaret Johnson"]
    assert titles("M.J@acme.com") == ["Margaret Johnson"]
    assert titles("robotics") == ["Margaret Johnson"]
    assert titles("+86 138-1234-5678") == ["Margaret Johnson"]
    assert titles("hidden") == []


def test_search_is_registered_with_the_platform(rep):
    from crm.core.selectors import search

    services.lead_create(actor=rep, data={"name": "Zebedee Quux"})
    groups = dict(search(user=rep, query="zebedee"))
    assert [r.title for r in groups["Leads"]] == ["Zebedee Quux"]


def test_leads_named_the_old_way_are_renamed_and_typed_names_are_kept(rep):
    import importlib

    from django.apps import apps

    from crm.sales.models import Lead

    old = services.lead_create(actor=rep, data={"first_name": "小明", "last_name": "王"})
    typed = services.lead_create(actor=rep, data={"name": "Wang Xiaoming", "first_name": "小明", "last_name": "王"})
    Lead.objects.filter(pk=old.pk).update(name="小明 王")  # as the earlier rule composed it
    migration = importlib.import_module("crm.sales.migrations.0004_lead_family_first_names")
    migration.rename(apps, None)
    assert Lead.objects.get(pk=old.pk).name == "王小明" and Lead.objects.get(pk=typed.pk).name == "Wang Xiaoming"
    migration.rename_back(apps, None)
    assert Lead.objects.get(pk=old.pk).name == "小明 王" and Lead.objects.get(pk=typed.pk).name == "Wang Xiaoming"
