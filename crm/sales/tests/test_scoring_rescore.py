"""Scoring leads: one lead (rules, model, weight, reasons), every lead in batches with a pinned number of
queries, and the background jobs ("Train now", rescoring after a rule change, the nightly task)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core.models import Job
from crm.customers.models import Activity
from crm.sales.choices import LeadSource
from crm.sales.models import Lead, SalesSettings, ScoringModel, ScoringRule
from crm.sales.scoring import services
from crm.sales.scoring.scorer import RuleSpec, Scorer, merge_reasons
from crm.sales.scoring.tasks import scoring_train_task
from crm.sales.tests.factories import make_lead
from crm.sales.tests.test_scoring_model import make_history

pytestmark = pytest.mark.django_db


def add_rule(name, field, operator, value, points, **extra):
    return ScoringRule.objects.create(
        name=name, field=field, operator=operator, value=value, points=points, kind=extra.get("kind", "fit")
    )


def log_activities(lead, count):
    lead_type = ContentType.objects.get_for_model(Lead)
    for index in range(count):
        Activity.objects.create(kind="note", body=f"Note {index}", related_type=lead_type, related_id=lead.pk)


def test_rules_only_score_and_reasons():
    add_rule("Software", "industry", "equals", "software", 30)
    add_rule("Free email", "email", "contains", "@gmail.com", -10)
    add_rule("Talked a lot", "activities", "at_least", "2", 50, kind="engagement")
    add_rule("Never matches", "country", "equals", "FR", 40)
    ScoringRule.objects.create(name="Off", field="industry", operator="not_empty", value="", points=90, is_active=False)
    lead = make_lead(industry="Software", email="x@gmail.com")
    log_activities(lead, 2)
    lead = services.lead_rescore(lead=lead)
    assert (lead.score, lead.rule_score, lead.model_score) == (70, 70, None)
    assert [r["label"] for r in lead.score_reasons] == ["Talked a lot", "Software", "Free email"]
    assert lead.score_reasons[0] == {
        "kind": "rule",
        "label": "Talked a lot",
        "points": 50,
        "rule": lead.score_reasons[0]["rule"],
    }
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.score, stored.rule_score, stored.score_reasons) == (70, 70, lead.score_reasons)
    assert stored.version == 1  # derived values: no version bump


def test_the_total_mixes_model_and_rules_by_the_weight():
    make_history()
    services.scoring_model_train()
    add_rule("Referral", "source", "equals", "referral", 100)
    settings = SalesSettings.load()
    for weight in (0, 30, 100):
        SalesSettings.objects.filter(pk=settings.pk).update(scoring_model_weight=weight)
        lead = services.lead_rescore(lead=make_lead(source=LeadSource.REFERRAL, email="a@acme.example"))
        assert lead.rule_score == 100 and lead.model_score is not None
        expected = int((weight * lead.model_score + (100 - weight) * 100) / 100 + 0.5)
        assert lead.score == expected
    kinds = {reason["kind"] for reason in lead.score_reasons}
    assert kinds == {"rule", "model"}
    model_reasons = [r for r in lead.score_reasons if r["kind"] == "model"]
    assert model_reasons[0]["feature"] == "source=referral" and model_reasons[0]["effect"] > 0
    assert {"label", "value_label", "effect"} <= set(model_reasons[0])


def test_reasons_are_at_most_five_with_the_models_strongest_up_and_down():
    rules = [{"kind": "rule", "label": f"R{i}", "points": 10 - i} for i in range(6)]
    model = [{"kind": "model", "label": f"M{i}", "effect": e} for i, e in enumerate([2.0, 1.5, 1.0, -0.5, -0.2])]
    merged = merge_reasons(rules, model)
    assert [r["label"] for r in merged] == ["R0", "R1", "R2", "M0", "M3"]
    assert [r["label"] for r in merge_reasons([], model)] == ["M0", "M1", "M3"]
    assert [r["label"] for r in merge_reasons(rules[:1], [])] == ["R0"]


def test_scorer_rounds_half_up():
    scorer = Scorer(rules=[RuleSpec(1, "A", "industry", "not_empty", "", 45)], parameters=None, weight=50)
    assert scorer.score({"industry": "x"}).score == 45
    params = {"features": ["has_phone"], "mean": [0.0], "scale": [1.0], "coef": [0.0], "intercept": 0.0}
    half = Scorer(rules=[RuleSpec(1, "A", "industry", "not_empty", "", 45)], parameters=params, weight=50)
    result = half.score({"industry": "x"})
    assert (result.model_score, result.rule_score, result.score) == (50, 45, 48)  # 47.5 -> 48


def test_rescore_all_reads_and_writes_in_batches_with_a_pinned_number_of_queries():
    add_rule("Software", "industry", "equals", "Software", 40)
    add_rule("Talked", "activities", "at_least", "1", 30, kind="engagement")
    Lead._base_manager.bulk_create(Lead(name=f"L{i}", industry="Software" if i % 2 else "Retail") for i in range(2500))
    talked = Lead.objects.order_by("pk")[1200]
    log_activities(talked, 2)
    SalesSettings.load()
    ContentType.objects.get_for_model(Lead)
    with CaptureQueriesContext(connection) as captured:
        result = services.leads_rescore_all()
    assert result == {"leads": 2500, "changed": 1251}
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    setup, batches = statements[:3], statements[3:]
    assert all("sales_" in sql for sql in setup)  # the active model, the settings, the rules
    reads = [sql for sql in batches if sql.upper().startswith("SELECT")]
    writes = [sql for sql in batches if sql.upper().startswith("UPDATE")]
    # Per batch of 1,000 leads: one read of the leads, one count of their activities, and one UPDATE per
    # 100 changed leads.
    assert len(reads) == 3 * 2
    assert sum('"customers_activity"' in sql for sql in reads) == 3
    assert len(writes) == 5 + 6 + 3  # 500, 501 and 250 changed leads
    assert len(batches) == len(reads) + len(writes)
    assert Lead.objects.get(pk=talked.pk).score == (40 if talked.industry == "Software" else 0) + 30
    assert Lead.objects.filter(industry="Software", score=40).count() == 1249 + (talked.industry != "Software")
    # Nothing changed: nothing written.
    with CaptureQueriesContext(connection) as again:
        assert services.leads_rescore_all()["changed"] == 0
    assert not [q for q in again.captured_queries if q["sql"].upper().startswith("UPDATE")]


def test_train_now_runs_as_a_job_that_trains_then_rescores(roles, django_capture_on_commit_callbacks):
    from crm.accounts.tests.factories import UserFactory

    boss = UserFactory(role=roles["sales_manager"])
    make_history()
    open_lead = make_lead(source=LeadSource.REFERRAL)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.scoring_model_train_start(actor=boss)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.result["active"] and job.result["leads"] == 401
    assert "ROC AUC" in job.message
    assert Lead.objects.get(pk=open_lead.pk).model_score is not None


def test_a_job_started_by_someone_who_lost_the_right_fails(roles, django_capture_on_commit_callbacks):
    from crm.accounts.tests.factories import UserFactory

    boss = UserFactory(role=roles["sales_manager"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.scoring_model_train_start(actor=boss)
    boss.role = roles["sales_rep"]
    boss.save()
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == "failed" and "no longer" in job.error
    assert not ScoringModel.objects.exists()


def test_a_rule_change_rescores_every_lead_in_the_background(roles, django_capture_on_commit_callbacks):
    from crm.accounts.tests.factories import UserFactory

    boss = UserFactory(role=roles["sales_manager"])
    lead = make_lead(industry="Software")
    with django_capture_on_commit_callbacks(execute=True):
        services.scoring_rule_create(
            actor=boss,
            data={"name": "Software", "field": "industry", "operator": "equals", "value": "Software", "points": 35},
        )
    assert Lead.objects.get(pk=lead.pk).score == 35
    job = Job.objects.get(kind=services.RESCORE_JOB)
    assert job.status == "succeeded" and job.result == {"leads": 1, "changed": 1}


def test_the_weight_is_checked_and_saved(roles):
    from django.core.exceptions import PermissionDenied, ValidationError

    from crm.accounts.tests.factories import UserFactory

    boss, worker = UserFactory(role=roles["sales_manager"]), UserFactory(role=roles["sales_rep"])
    for bad in (101, -1, "half", True):
        with pytest.raises(ValidationError):
            services.scoring_weight_set(actor=boss, weight=bad)
    with pytest.raises(PermissionDenied):
        services.scoring_weight_set(actor=worker, weight=10)
    assert SalesSettings.load().scoring_model_weight == 50
    services.scoring_weight_set(actor=boss, weight="70")
    assert SalesSettings.load().scoring_model_weight == 70


def test_the_nightly_task_trains_and_rescores_without_a_job():
    make_history()
    result = scoring_train_task.delay().get()
    assert result["active"] and result["leads"] == 400
    assert not Job.objects.exists()
    assert not Lead.objects.filter(model_score__isnull=True).exists()
