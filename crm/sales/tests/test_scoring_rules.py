"""Lead scoring rules: what each condition matches, the clamp of the rules' part, the checks of a rule
(each problem next to its input, nothing written), permissions, edit conflicts and the journal."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.core.exceptions import ConflictError
from crm.core.models import Job
from crm.core.testing import journal_entries, make_user
from crm.sales.models import ScoringRule
from crm.sales.scoring import services
from crm.sales.scoring.rules import matches, rule_score

FACTS = {
    "source": "referral",
    "industry": "Software",
    "company_size": "51-200",
    "country": "CN",
    "region": "",
    "title": "Head of Purchasing",
    "email": "li.wei@acme.cn",
    "phone": "+8613812345678",
    "company_name": "Acme Ltd",
    "website": "",
    "interest": "Annual plan",
    "marketing_consent": True,
    "activities": 3,
    "web_form": False,
}


def manager(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_manager"])


def rep(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_rep"])


def rule_data(**changes):
    data = {"name": "Software", "field": "industry", "operator": "equals", "value": "Software", "points": 15}
    data.update(changes)
    return data


# --- evaluation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("industry", "equals", "software", True),  # case does not matter
        ("industry", "equals", "Retail", False),
        ("email", "contains", "@ACME.cn", True),
        ("email", "contains", "@gmail.com", False),
        ("title", "contains", "head", True),
        ("source", "in", "event, referral", True),
        ("source", "in", "event，partner", False),  # a Chinese comma separates too
        ("country", "in", "US, CN", True),
        ("region", "not_empty", "", False),
        ("phone", "not_empty", "", True),
        ("website", "equals", "", False),
        ("activities", "at_least", "3", True),
        ("activities", "at_least", "4", False),
        ("activities", "equals", "3", True),
        ("marketing_consent", "equals", "yes", True),
        ("web_form", "equals", "yes", False),
        ("web_form", "equals", "no", True),
        ("unknown", "equals", "x", False),
    ],
)
def test_each_condition_matches_what_it_says(field, operator, value, expected):
    assert matches(field=field, operator=operator, value=value, facts=FACTS) is expected


def test_an_empty_fact_matches_no_text_condition():
    facts = {**FACTS, "industry": "  "}
    for operator, value in (("equals", "Software"), ("contains", "a"), ("in", "a, b"), ("not_empty", "")):
        assert not matches(field="industry", operator=operator, value=value, facts=facts)


@pytest.mark.parametrize(
    ("points", "expected"), [([], 0), ([30, 20], 50), ([80, 40], 100), ([10, -40], 0), ([60, -15], 45)]
)
def test_the_rules_part_is_the_sum_of_points_kept_between_0_and_100(points, expected):
    assert rule_score(points) == expected


# --- checks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the rule a name"),
        ({"field": "salary"}, "field", "Choose one of the facts"),
        ({"operator": "between"}, "operator", "Choose a condition"),
        ({"operator": "at_least", "value": "3"}, "operator", "compares numbers"),
        ({"field": "activities", "operator": "at_least", "value": "many"}, "value", "whole number"),
        ({"field": "activities", "operator": "at_least", "value": "-1"}, "value", "whole number"),
        ({"field": "activities", "operator": "contains", "value": "3"}, "operator", "cannot be tested"),
        ({"operator": "in", "value": " , ,"}, "value", "separated by commas"),
        ({"operator": "equals", "value": ""}, "value", "Enter the value"),
        ({"field": "source", "value": "billboard"}, "value", "not one of the choices"),
        ({"field": "source", "operator": "in", "value": "referral, billboard"}, "value", "billboard"),
        ({"field": "country", "value": "China"}, "value", "two-letter country codes"),
        ({"field": "web_form", "value": "maybe"}, "value", "yes or no"),
        ({"points": 150}, "points", "from -100 to 100"),
        ({"points": "lots"}, "points", "from -100 to 100"),
        ({"points": 0}, "points", "changes nothing"),
        ({"kind": "vibes"}, "kind", "fit or engagement"),
    ],
)
def test_a_bad_rule_is_refused_next_to_its_input_and_nothing_is_written(roles, changes, field, message):
    boss = manager(roles)
    with pytest.raises(ValidationError) as caught:
        services.scoring_rule_create(actor=boss, data=rule_data(**changes))
    assert message in " ".join(caught.value.message_dict[field])
    assert not ScoringRule.objects.exists()
    assert not Job.objects.exists()


def test_values_are_normalised_and_the_kind_follows_the_fact(roles, django_capture_on_commit_callbacks):
    boss = manager(roles)
    with django_capture_on_commit_callbacks(execute=True):
        sources = services.scoring_rule_create(
            actor=boss, data=rule_data(field="source", operator="in", value="Referral；event, referral")
        )
        countries = services.scoring_rule_create(actor=boss, data=rule_data(field="country", value=" cn "))
        engaged = services.scoring_rule_create(
            actor=boss, data=rule_data(field="activities", operator="at_least", value="03")
        )
        filled = services.scoring_rule_create(actor=boss, data=rule_data(operator="not_empty", value="ignored"))
    assert sources.value == "referral, event"
    assert (countries.value, countries.kind) == ("CN", "fit")
    assert (engaged.value, engaged.kind) == ("3", "engagement")
    assert filled.value == ""


def test_unknown_keys_are_refused(roles):
    with pytest.raises(ValidationError) as caught:
        services.scoring_rule_create(actor=manager(roles), data=rule_data(owner=1))
    assert "owner" in caught.value.message_dict


# --- permissions, conflicts, journal ----------------------------------------------------------------------


def test_a_sales_rep_may_not_change_rules(roles):
    boss, worker = manager(roles), rep(roles)
    assert services.can_manage(boss) and not services.can_manage(worker)
    with pytest.raises(PermissionDenied):
        services.scoring_rule_create(actor=worker, data=rule_data())
    rule = services.scoring_rule_create(actor=boss, data=rule_data())
    with pytest.raises(PermissionDenied):
        services.scoring_rule_update(actor=worker, rule=rule, data={"points": 90}, version=rule.version)
    with pytest.raises(PermissionDenied):
        services.scoring_rule_delete(actor=worker, rule=rule)
    assert ScoringRule.objects.get().points == 15


def test_a_stale_edit_is_refused_and_changes_are_journaled(roles):
    boss = manager(roles)
    rule = services.scoring_rule_create(actor=boss, data=rule_data())
    services.scoring_rule_update(actor=boss, rule=rule, data={"points": 25}, version=1)
    stale = ScoringRule.objects.get()
    stale.version = 1
    with pytest.raises(ConflictError):
        services.scoring_rule_update(actor=boss, rule=stale, data={"points": -5}, version=1)
    assert ScoringRule.objects.get().points == 25
    services.scoring_rule_delete(actor=boss, rule=ScoringRule.objects.get())
    actions = [entry.action for entry in journal_entries(rule)]
    assert actions == ["create", "update", "delete"]
    assert journal_entries(rule)[1].changes["points"] == [15, 25]


def test_a_rule_change_queues_one_rescoring_job(roles):
    boss = manager(roles)
    rule = services.scoring_rule_create(actor=boss, data=rule_data())
    services.scoring_rule_update(actor=boss, rule=rule, data={"points": 30}, version=rule.version)
    # The job waits for the commit; a second change while it waits does not queue another.
    jobs = Job.objects.filter(kind=services.RESCORE_JOB)
    assert jobs.count() == 1 and jobs.get().created_by == boss


def test_a_custom_role_with_edit_and_delete_in_sales_may_manage(roles):
    writer = make_user(module="sales", actions=("view", "edit", "delete"))
    reader = make_user(module="sales", actions=("view", "create", "edit"))
    assert services.can_manage(writer)
    assert not services.can_manage(reader)
