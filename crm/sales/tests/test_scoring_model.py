"""The predictive model: features of a lead, training on closed leads (quality on held-out leads, top
factors), too little history, and scoring with the stored JSON parameters exactly as scikit-learn does."""

from __future__ import annotations

import json
import random
import sys

import numpy as np
import pytest

from crm.sales.choices import LeadSource, LeadStatus
from crm.sales.models import Lead, ScoringModel
from crm.sales.scoring import model as predictive
from crm.sales.scoring import selectors, services
from crm.sales.tests.factories import make_lead

pytestmark = pytest.mark.django_db

OTHER_SOURCES = [LeadSource.COLD_CALL, LeadSource.WEBSITE, LeadSource.EMAIL, LeadSource.SOCIAL]
INDUSTRIES = ["Software", "Retail", "Finance", "Logistics"]


def make_history(count: int = 400, *, seed: int = 7, converted_share: float | None = None) -> list[Lead]:
    """Closed leads whose conversion depends on the source: referrals mostly convert, others rarely.
    With ``converted_share`` conversion is random at that rate instead."""
    rng = random.Random(seed)
    leads = []
    for index in range(count):
        referral = rng.random() < 0.4
        if converted_share is None:
            converted = rng.random() < (0.8 if referral else 0.1)
        else:
            converted = rng.random() < converted_share
        leads.append(
            Lead(
                name=f"Lead {index}",
                email=f"lead{index}@{rng.choice(['gmail.com', 'acme.example', 'qq.com', 'globex.example'])}",
                phone="+8613812345678" if rng.random() < 0.5 else "",
                title=rng.choice(["", "Engineer", "Director of IT", "Buyer"]),
                industry=rng.choice(INDUSTRIES),
                company_size=rng.choice(["1-10", "11-50", "51-200"]),
                country=rng.choice(["CN", "US", "DE"]),
                source=LeadSource.REFERRAL if referral else rng.choice(OTHER_SOURCES),
                status=LeadStatus.CONVERTED if converted else LeadStatus.UNQUALIFIED,
            )
        )
    return Lead._base_manager.bulk_create(leads)


# --- features ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "senior"),
    [
        ("Chief Technology Officer", True),
        ("Head of Sales", True),
        ("VP Marketing", True),
        ("Co-Founder", True),
        ("Owner", True),
        ("销售总监", True),
        ("采购经理", True),
        ("办公室主任", True),
        ("董事长", True),
        ("Engineer", False),
        ("Headquarters assistant", False),
        ("", False),
    ],
)
def test_senior_titles(title, senior):
    assert predictive.is_senior_title(title) is senior


def test_features_of_a_lead():
    values = predictive.lead_values(
        {
            "source": "referral",
            "industry": " Software ",
            "company_size": "",
            "country": "cn",
            "phone": "+8613812345678",
            "title": "Sales Director",
            "email": "wang@QQ.com",
            "activities": 3,
            "web_form": True,
            "marketing_consent": False,
        }
    )
    assert values == {
        "source=referral": 1.0,
        "industry=Software": 1.0,
        "country=CN": 1.0,
        "has_phone": 1.0,
        "has_title": 1.0,
        "senior_title": 1.0,
        "free_email": 1.0,
        "web_form": 1.0,
        "activities": pytest.approx(np.log1p(3)),
    }
    assert predictive.lead_values({"email": "ana@globex.example"}) == {"business_email": 1.0}


# --- training ----------------------------------------------------------------------------------------------


def test_training_learns_that_referrals_convert_and_becomes_the_only_active_model():
    make_history()
    earlier = ScoringModel.objects.create(is_active=True, trained_on=1, parameters={})
    trained = services.scoring_model_train()
    assert trained.is_active and trained.message == ""
    assert trained.roc_auc > 0.7
    assert (trained.trained_on, trained.tested_on) == (300, 100)  # a stratified 25 % hold-out
    closed = Lead.objects.count()
    assert trained.conversion_rate == pytest.approx(Lead.objects.filter(status="converted").count() / closed)
    earlier.refresh_from_db()
    assert not earlier.is_active
    assert selectors.model_active() == trained
    factors = selectors.top_factors(model=trained, limit=3)
    assert factors[0]["feature"] == "source=referral" and factors[0]["coef"] > 0
    assert factors[0]["label"] == "Source" and factors[0]["value_label"] == "Referral"
    # Stored as plain JSON: features, scaling, coefficients, intercept.
    stored = json.loads(json.dumps(trained.parameters))
    assert set(stored) >= {"features", "mean", "scale", "coef", "intercept"}
    assert len(stored["features"]) == len(stored["coef"]) == len(stored["mean"]) == len(stored["scale"])


def test_too_little_history_leaves_scoring_to_the_rules():
    make_history(42)
    ScoringModel.objects.create(is_active=True, trained_on=500, parameters={})
    attempt = services.scoring_model_train()
    assert not attempt.is_active
    converted = Lead.objects.filter(status="converted").count()
    assert attempt.message == (
        f"Not enough history yet: 42 closed leads ({converted} converted), need 100 with at least 20 converted "
        "and 20 not."
    )
    assert selectors.model_active() is None
    lead = services.lead_rescore(lead=make_lead(source="referral"))
    assert lead.model_score is None and lead.score == lead.rule_score == 0
    # The nightly job does not pile up one row per night while history is short.
    again = services.scoring_model_train()
    assert again.pk == attempt.pk and ScoringModel.objects.count() == 2


def test_many_leads_but_too_few_of_one_class_is_not_enough():
    make_history(150, converted_share=0.05)
    history = selectors.closed_history()
    assert history.closed == 150 and history.converted < 20
    attempt = services.scoring_model_train()
    assert not attempt.is_active and "at least 20 converted" in attempt.message


def test_a_model_no_better_than_chance_is_not_used():
    make_history(300, converted_share=0.5, seed=3)
    attempt = services.scoring_model_train()  # labels drawn at random: nothing to learn
    assert attempt.roc_auc is not None and attempt.roc_auc < services.MIN_AUC
    assert not attempt.is_active and "could not tell" in attempt.message
    assert selectors.model_active() is None


def test_the_stored_parameters_score_exactly_like_scikit_learn():
    make_history()
    rows, labels = selectors.training_rows()
    trained = predictive.train(rows, labels)
    formula = predictive.Formula(json.loads(json.dumps(trained.parameters)))
    expected = trained.pipeline.predict_proba(predictive.matrix(rows, trained.parameters["features"]))[:, 1]
    ours = np.array([formula.probability(values) for values in rows])
    assert np.max(np.abs(ours - expected)) < 1e-6
    # Features the model never saw (a new industry) are simply absent.
    unseen = {**rows[0], "industry=Mining": 1.0}
    assert formula.probability(unseen) == pytest.approx(formula.probability(rows[0]), abs=1e-12)


def test_scoring_a_lead_needs_no_scikit_learn(monkeypatch):
    make_history()
    services.scoring_model_train()
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # any import of it now fails
    lead = services.lead_rescore(lead=make_lead(source="referral", email="a@acme.example"))
    assert lead.model_score is not None and lead.model_score > 50


def test_the_demo_sets_rules_trains_on_the_demo_leads_and_is_safe_to_run_again():
    from io import StringIO

    from crm.sales.models import ScoringRule
    from crm.sales.scoring import demo

    make_history()
    out = StringIO()
    demo.build(stdout=out)
    assert ScoringRule.objects.count() == len(demo.RULES)
    assert selectors.model_active() is not None and "ROC AUC" in out.getvalue()
    assert not Lead.objects.filter(model_score__isnull=True).exists()
    demo.build(stdout=out)
    assert ScoringRule.objects.count() == len(demo.RULES) and ScoringModel.objects.count() == 1
