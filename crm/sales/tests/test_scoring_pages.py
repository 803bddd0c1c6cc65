"""Settings → Lead scoring, and the score shown on a lead: what a sales manager, a sales rep and someone
without Sales see and may do, field errors, conflicts, "Train now", and the partial in English and Chinese."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from crm.core.models import Job
from crm.core.testing import make_user
from crm.sales.choices import LeadSource
from crm.sales.models import SalesSettings, ScoringRule
from crm.sales.scoring import services
from crm.sales.tests.factories import make_lead
from crm.sales.tests.test_scoring_model import make_history

pytestmark = pytest.mark.django_db

PAGE = reverse("sales:lead_scoring")
CREATE = reverse("sales:scoring_rule_create")
TRAIN = reverse("sales:scoring_model_train")
WEIGHT = reverse("sales:scoring_weight")


@pytest.fixture
def boss(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_manager"])


@pytest.fixture
def worker(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_rep"])


def a_rule(**changes):
    data = {"name": "Software", "field": "industry", "operator": "equals", "value": "Software", "points": 20}
    data.update(changes)
    return ScoringRule.objects.create(**data)


def form(**changes):
    data = {
        "name": "Big company",
        "field": "company_size",
        "operator": "in",
        "value": "201-1000, 1001-5000",
        "points": "25",
        "kind": "",
        "is_active": "on",
    }
    data.update(changes)
    return data


# --- the page ---------------------------------------------------------------------------------------------


def test_a_manager_sees_rules_the_model_and_its_history(client, boss):
    a_rule()
    make_history()
    services.scoring_model_train()
    client.force_login(boss)
    response = client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Software" in body and "+20" in body
    assert "ROC AUC on held-out leads" in body and 'data-testid="roc-auc"' in body
    assert "300 leads" in body and "100 leads" in body  # trained on, tested on
    assert "Source: Referral" in body  # among the top factors
    assert "Train now" in body and "Add a rule" in body
    assert "Lead scoring" in body and reverse("sales:lead_scoring") in body  # the settings entry


def test_with_too_little_history_the_page_says_so_plainly(client, boss):
    make_history(42)
    services.scoring_model_train()
    client.force_login(boss)
    body = client.get(PAGE).content.decode()
    assert "No model is in use: leads are scored by the rules only." in body
    assert "Not enough history yet: 42 closed leads" in body
    assert "No fit rules yet" in body  # the empty state
    body = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "42" in body


def test_a_sales_rep_reads_the_page_but_changes_nothing(client, worker):
    rule = a_rule()
    client.force_login(worker)
    body = client.get(PAGE).content.decode()
    assert "Software" in body
    assert "Add a rule" not in body and "Train now" not in body
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form()).status_code == 403
    edit = reverse("sales:scoring_rule_edit", args=[rule.pk])
    assert client.post(edit, form(version=rule.version)).status_code == 403
    assert client.post(reverse("sales:scoring_rule_delete", args=[rule.pk])).status_code == 403
    assert client.post(TRAIN).status_code == 403
    assert client.post(WEIGHT, {"weight": "10"}).status_code == 403
    assert ScoringRule.objects.get().points == 20 and not Job.objects.exists()
    assert SalesSettings.load().scoring_model_weight == 50


def test_without_sales_the_page_is_refused_and_anonymous_is_sent_to_log_in(client, roles):
    client.force_login(make_user(module="customers"))
    assert client.get(PAGE).status_code == 403
    assert client.get(CREATE).status_code == 403
    client.logout()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- rules through the page -------------------------------------------------------------------------------


def test_a_manager_adds_edits_and_deletes_a_rule(client, boss):
    client.force_login(boss)
    assert client.get(CREATE).status_code == 200
    response = client.post(CREATE, form())
    assert response.status_code == 302 and response["Location"] == PAGE
    rule = ScoringRule.objects.get()
    assert (rule.value, rule.kind, rule.points) == ("201-1000, 1001-5000", "fit", 25)
    edit = reverse("sales:scoring_rule_edit", args=[rule.pk])
    assert "Big company" in client.get(edit).content.decode()
    assert client.post(edit, form(points="-5", version=rule.version)).status_code == 302
    assert ScoringRule.objects.get().points == -5
    delete = reverse("sales:scoring_rule_delete", args=[rule.pk])
    assert "will be deleted" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert not ScoringRule.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"field": "industry", "operator": "at_least", "value": "3"}, "compares numbers"),
        ({"field": "activities", "operator": "at_least", "value": "lots"}, "Enter a whole number from 0"),
        ({"operator": "in", "value": ", ,"}, "separated by commas"),
        ({"value": "huge"}, "is not one of the choices"),
        ({"points": "500"}, "less than or equal to 100"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_input_gets_an_error_next_to_the_field_and_nothing_is_saved(client, boss, changes, message):
    client.force_login(boss)
    response = client.post(CREATE, form(**changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert "invalid-feedback" in body and message in body
    assert not ScoringRule.objects.exists()


def test_a_stale_edit_is_refused_with_a_conflict(client, boss):
    rule = a_rule()
    client.force_login(boss)
    edit = reverse("sales:scoring_rule_edit", args=[rule.pk])
    assert client.post(edit, form(points="30", version=1)).status_code == 302
    response = client.post(edit, form(points="40", version=1))
    assert response.status_code == 409
    assert "Someone else saved this rule" in response.content.decode()
    assert ScoringRule.objects.get().points == 30


def test_an_unknown_rule_is_not_found(client, boss):
    client.force_login(boss)
    assert client.get(reverse("sales:scoring_rule_edit", args=[999])).status_code == 404
    assert client.post(reverse("sales:scoring_rule_delete", args=[999])).status_code == 404


# --- weight and training ----------------------------------------------------------------------------------


def test_the_weight_is_refused_next_to_its_input_when_out_of_range(client, boss):
    client.force_login(boss)
    response = client.post(WEIGHT, {"weight": "150"})
    assert response.status_code == 400 and "less than or equal to 100" in response.content.decode()
    assert SalesSettings.load().scoring_model_weight == 50
    assert client.post(WEIGHT, {"weight": "80"}).status_code == 302
    assert SalesSettings.load().scoring_model_weight == 80


def test_train_now_starts_a_job_and_the_page_follows_it(client, boss, django_capture_on_commit_callbacks):
    make_history()
    client.force_login(boss)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRAIN, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-testid="train-status"' in response.content.decode()
    job = Job.objects.get(kind=services.TRAIN_JOB)
    assert job.status == "succeeded"
    response = client.post(TRAIN)
    assert response.status_code == 302 and "?job=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "job-" in page and 'data-testid="roc-auc"' in page


# --- the score on a lead ----------------------------------------------------------------------------------


def test_the_partial_shows_score_parts_and_reasons_in_english_and_chinese():
    make_history()
    services.scoring_model_train()
    ScoringRule.objects.create(name="Referred", field="source", operator="equals", value="referral", points=40)
    with translation.override("zh-hans"):  # scored during a request in Chinese: message ids are stored
        lead = services.lead_rescore(lead=make_lead(source=LeadSource.REFERRAL, email="ana@acme.example"))
    assert {"label": "Source", "value_label": "Referral"}.items() <= lead.score_reasons[1].items()
    english = render_to_string("sales/scoring/_lead_score.html", {"lead": lead})
    assert f'data-score="{lead.score}"' in english
    assert "Rules: 40" in english and f"Predicted: {lead.model_score}" in english
    assert "Referred" in english and "+40" in english
    assert "Source: Referral" in english and "raises" in english
    with translation.override("zh-hans"):
        chinese = render_to_string("sales/scoring/_lead_score.html", {"lead": lead})
    assert "推荐" in chinese  # the source's label, translated when shown
    assert "Source: Referral" not in chinese
    assert "Referred" in chinese  # a rule's name is the manager's own text


def test_the_partial_of_an_unscored_lead_is_quiet():
    body = render_to_string("sales/scoring/_lead_score.html", {"lead": make_lead()})
    assert 'data-score="0"' in body and "Predicted" not in body and "<ul" not in body


def test_the_page_costs_the_same_queries_however_many_rules_and_models(client, boss, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.sales.models import ScoringModel

    client.force_login(boss)

    def add(rules, models):
        for index in range(rules):
            a_rule(name=f"Rule {ScoringRule.objects.count()}-{index}")
        for _index in range(models):
            ScoringModel.objects.create(is_active=False, parameters={"reason": "history", "closed": 3, "converted": 1})

    add(2, 1)
    client.get(PAGE)  # sessions, content types and the like are warm
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200
    add(10, 12)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(PAGE).status_code == 200
