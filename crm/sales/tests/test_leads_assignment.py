"""Assignment rules: fairness of round robin, people who are away, territories, fewest open leads, a
named person, the fallback owner, a cursor safe under concurrency, and the reassignment of leads
nobody worked in time (with explicit times, no waiting)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm.accounts.tests.factories import RoleFactory, TeamFactory, UserFactory
from crm.core.models import Notification
from crm.core.testing import journal_entries
from crm.sales.choices import AssignmentMethod, LeadStatus
from crm.sales.leads import assignment, services
from crm.sales.models import AssignmentRule, Lead, SalesSettings
from crm.sales.tests.factories import make_lead

pytestmark = pytest.mark.django_db

REP = {"sales": ["view", "create", "edit"], "customers": ["view", "create", "edit"]}


@pytest.fixture
def rep_role(roles):
    return RoleFactory(permissions=REP, data_scope="own")


@pytest.fixture
def reps(rep_role):
    return [UserFactory(username=f"rep{i}", role=rep_role) for i in range(4)]


@pytest.fixture
def team(reps):
    return TeamFactory(name="Inside sales", members=reps)


def rule(**fields) -> AssignmentRule:
    values = {"name": "Rule", "method": AssignmentMethod.ROUND_ROBIN, "order": AssignmentRule.objects.count()}
    values.update(fields)
    return AssignmentRule.objects.create(**values)


def web_lead(**data) -> Lead:
    """A lead as a web form creates it: no actor, no owner."""
    return services.lead_create(actor=None, data={"name": "Visitor", **data})


def test_round_robin_is_fair_over_a_thousand_leads(reps, team):
    rule(team=team)
    owners = Counter(web_lead(name=f"Lead {i}").owner_id for i in range(1000))
    assert owners == {rep.pk: 250 for rep in reps}


def test_round_robin_goes_in_a_stable_order_and_skips_people_who_are_away(reps, team):
    rule(team=team)
    reps[1].is_away = True
    reps[1].save()
    reps[3].is_active = False
    reps[3].save()
    owners = [web_lead().owner for _ in range(6)]
    assert owners == [reps[0], reps[2]] * 3


def test_the_assignee_is_told_with_a_link(reps, team):
    rule(team=team)
    lead = web_lead(company_name="Acme")
    note = Notification.objects.get(recipient=lead.owner)
    assert "Visitor" in note.title and note.url == f"/sales/leads/{lead.pk}/"


def test_territories_pick_the_first_matching_rule(reps, rep_role):
    china = TeamFactory(name="China", members=[reps[0]])
    europe = TeamFactory(name="Europe", members=[reps[1]])
    rule(name="China", team=china, countries=["CN"])
    rule(name="Europe big", team=europe, countries=["DE", "FR"], company_sizes=["1001-5000", "5000+"])
    rule(name="Events", method=AssignmentMethod.USER, user=reps[2], sources=["event"])
    rule(name="Software", method=AssignmentMethod.USER, user=reps[3], industries=["software"])
    assert web_lead(country="CN").owner == reps[0]
    assert web_lead(country="de", company_size="5000+").owner == reps[1]
    assert web_lead(country="DE", company_size="1-10", source="event").owner == reps[2]
    assert web_lead(country="US", industry="Software").owner == reps[3]
    lead = web_lead(country="CN")
    assert lead.team_id == china.pk


def test_regions_match_whatever_the_case(reps):
    rule(method=AssignmentMethod.USER, user=reps[0], regions=["Bavaria", "Hesse"])
    assert web_lead(region="bavaria").owner == reps[0]
    assert web_lead(region="Saxony").owner is None


def test_fallback_owner_when_nothing_matches_or_nobody_is_available(reps, team):
    settings = SalesSettings.load()
    settings.fallback_owner = reps[3]
    settings.save()
    rule(team=team, countries=["CN"])
    rule(method=AssignmentMethod.USER, user=reps[1], sources=["partner"])
    assert web_lead(country="US").owner == reps[3]
    reps[1].is_away = True
    reps[1].save()
    assert web_lead(source="partner").owner == reps[3]  # the named person is away


def test_an_away_named_person_passes_the_lead_to_the_next_rule(reps, team):
    rule(method=AssignmentMethod.USER, user=reps[0])
    rule(team=TeamFactory(name="Backup", members=[reps[2]]))
    assert web_lead().owner == reps[0]
    reps[0].is_away = True
    reps[0].save()
    assert web_lead().owner == reps[2]


def test_without_rules_or_fallback_the_creator_keeps_the_lead(reps):
    assert services.lead_create(actor=reps[0], data={"name": "Mine"}).owner == reps[0]
    assert web_lead().owner is None


def test_inactive_rules_are_skipped(reps, team):
    rule(method=AssignmentMethod.USER, user=reps[0], is_active=False)
    rule(method=AssignmentMethod.USER, user=reps[1])
    assert web_lead().owner == reps[1]


def test_least_open_leads(reps, team):
    rule(team=team, method=AssignmentMethod.LEAST_OPEN)
    for _ in range(3):
        make_lead(owner=reps[0])
    for _ in range(2):
        make_lead(owner=reps[1])
    make_lead(owner=reps[2])
    make_lead(owner=reps[2], status=LeadStatus.CONVERTED)  # not open: does not count
    make_lead(owner=reps[3], status=LeadStatus.UNQUALIFIED)
    # open leads: 3, 2, 1, 0 -> the one with none first, then ties by id
    owners = [web_lead().owner for _ in range(8)]
    assert owners == [reps[3], reps[2], reps[3], reps[1], reps[2], reps[3], reps[0], reps[1]]
    assert assignment.open_lead_counts([rep.pk for rep in reps]) == {
        reps[0].pk: 4,
        reps[1].pk: 4,
        reps[2].pk: 3,
        reps[3].pk: 3,
    }


def test_a_changed_team_starts_its_round_again(reps, team, admin_user):
    from crm.sales.leads import settings_services

    current = rule(team=team)
    web_lead()
    web_lead()
    assert AssignmentRule.objects.get(pk=current.pk).last_assigned == reps[1]
    other = TeamFactory(name="Other", members=[reps[2], reps[3]])
    settings_services.assignment_rule_update(
        actor=admin_user, rule=current, data={"team": other}, version=current.version
    )
    assert web_lead().owner == reps[2]


def test_rules_are_checked(reps, team, admin_user):
    from django.core.exceptions import ValidationError

    from crm.sales.leads import settings_services

    bad = {"name": "", "method": "round_robin", "countries": ["XX"], "company_sizes": ["giant"], "sources": ["pigeon"]}
    with pytest.raises(ValidationError) as exc:
        settings_services.assignment_rule_create(actor=admin_user, data=bad)
    assert {"name", "team", "countries", "company_sizes", "sources"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        settings_services.assignment_rule_create(actor=admin_user, data={"name": "Named", "method": "user"})
    assert "user" in exc.value.message_dict
    assert not AssignmentRule.objects.exists()
    created = settings_services.assignment_rule_create(
        actor=admin_user, data={"name": "DE", "method": "round_robin", "team": team, "countries": ["de"]}
    )
    assert created.countries == ["DE"] and journal_entries(created).get().action == "create"


def test_rules_are_for_administrators(reps, team):
    from django.core.exceptions import PermissionDenied

    from crm.sales.leads import settings_services

    with pytest.raises(PermissionDenied):
        settings_services.assignment_rule_create(
            actor=reps[0], data={"name": "R", "method": "round_robin", "team": team}
        )


def test_moving_rules_changes_which_wins(reps, team, admin_user):
    from crm.sales.leads import settings_services

    first = rule(name="First", method=AssignmentMethod.USER, user=reps[0])
    second = rule(name="Second", method=AssignmentMethod.USER, user=reps[1])
    assert web_lead().owner == reps[0]
    settings_services.assignment_rule_move(actor=admin_user, rule=second, step=-1)
    assert list(AssignmentRule.objects.order_by("order").values_list("name", flat=True)) == ["Second", "First"]
    assert web_lead().owner == reps[1]
    assert first.pk


# --- untouched leads ------------------------------------------------------------------------------------


@pytest.fixture
def manager(roles, reps, team):
    boss = UserFactory(username="boss2", role=roles["sales_manager"])
    team.members.add(boss)
    return boss


def test_an_untouched_lead_goes_to_the_next_person_and_the_manager_hears_of_it(reps, team, manager):
    settings = SalesSettings.load()
    settings.lead_response_hours = 4
    settings.save()
    rule(team=team)
    lead = web_lead()
    first_owner = lead.owner
    Notification.objects.all().delete()
    now = timezone.now()
    assert assignment.reassign_untouched(now=now + timedelta(hours=3)) == 0  # not yet
    assert assignment.reassign_untouched(now=now + timedelta(hours=5)) == 1
    lead.refresh_from_db()
    assert lead.owner != first_owner and lead.owner in reps
    assert Notification.objects.filter(recipient=lead.owner, url=lead.get_absolute_url()).exists()
    assert Notification.objects.filter(recipient=manager, url=lead.get_absolute_url()).exists()
    assert not Notification.objects.filter(recipient=first_owner).exists()
    entry = journal_entries(lead).last()
    assert entry.changes["owner"] == [first_owner.pk, lead.owner_id]
    # idempotent: run again at once, nothing more happens
    assert assignment.reassign_untouched(now=now + timedelta(hours=5)) == 0
    assert Notification.objects.count() == 2


def test_worked_converted_or_old_enough_only(reps, team, manager):
    settings = SalesSettings.load()
    settings.lead_response_hours = 2
    settings.save()
    rule(team=team)
    worked = web_lead(name="Worked")
    services.lead_log_activity(actor=worked.owner, lead=worked, data={"kind": "note", "body": "Called back"})
    qualified = web_lead(name="Qualified")
    Lead.objects.filter(pk=qualified.pk).update(status=LeadStatus.QUALIFIED)
    waiting = web_lead(name="Waiting")
    later = timezone.now() + timedelta(hours=3)
    assert assignment.reassign_untouched(now=later) == 1
    assert Lead.objects.get(pk=waiting.pk).owner != waiting.owner
    assert Lead.objects.get(pk=worked.pk).owner == worked.owner
    assert Lead.objects.get(pk=qualified.pk).owner == qualified.owner


def test_reassignment_is_off_at_zero_hours(reps, team):
    settings = SalesSettings.load()
    settings.lead_response_hours = 0
    settings.save()
    rule(team=team)
    web_lead()
    assert assignment.reassign_untouched(now=timezone.now() + timedelta(days=30)) == 0


def test_the_fallback_owner_takes_over_and_nobody_available_keeps_the_lead(reps, rep_role):
    settings = SalesSettings.load()
    settings.lead_response_hours = 1
    settings.fallback_owner = reps[1]
    settings.save()
    solo = TeamFactory(name="Solo", members=[reps[0]])
    rule(team=solo)
    lead = web_lead()
    assert lead.owner == reps[0]
    later = timezone.now() + timedelta(hours=2)
    # the fallback owner takes it: the only other person there is
    assert assignment.reassign_untouched(now=later) == 1
    lead.refresh_from_db()
    assert lead.owner == reps[1]
    # Next time round the rule gives it back to the team; with its only member away and no fallback
    # owner, nobody else can take it: it stays, and its clock starts again.
    reps[0].is_away = True
    reps[0].save()
    settings.fallback_owner = None
    settings.save()
    again = later + timedelta(hours=2)
    assert assignment.reassign_untouched(now=again) == 0
    lead.refresh_from_db()
    assert lead.owner == reps[1] and lead.assigned_at == again
    assert assignment.reassign_untouched(now=again + timedelta(minutes=30)) == 0


def test_the_scheduled_task_runs_the_reassignment(reps, team):
    from crm.sales.leads.tasks import leads_reassign_untouched_task

    settings = SalesSettings.load()
    settings.lead_response_hours = 1
    settings.save()
    rule(team=team)
    lead = web_lead()
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - timedelta(hours=2))
    assert leads_reassign_untouched_task.delay().get() == 1
    assert journal_entries(lead).last().source == "task"


# --- concurrency ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_round_robin_cursor_is_safe_under_concurrency(roles):
    # PostgreSQL runs the writers truly at once (the rule's row lock keeps the cursor right); SQLite
    # admits one writer at a time (its in-memory test database refuses a second outright), so
    # there they take turns, lead by lead, interleaved.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    role = RoleFactory(permissions=REP, data_scope="own")
    people = [UserFactory(username=f"c{i}", role=role) for i in range(4)]
    crew = TeamFactory(name="Crew", members=people)
    rule(team=crew)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def create(count: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            for index in range(count):
                with turns:
                    web_lead(name=f"Concurrent {index}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(10,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    owners = Counter(Lead.objects.values_list("owner", flat=True))
    assert owners == {person.pk: 20 for person in people}
