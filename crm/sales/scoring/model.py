"""The predictive part of lead scoring: features of a lead, training a logistic regression on closed leads,
and scoring a lead with the stored parameters.

Training (a background job) uses scikit-learn: a standard scaler and a logistic regression with balanced
class weights, measured by its ROC AUC on a stratified hold-out of 25 % of the closed leads. What is
stored is plain JSON (features, scaling, coefficients, intercept), never a pickle, so that scoring a
lead in a web request is arithmetic: no scikit-learn import, nothing executable read from the database.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_noop

from crm.customers.choices import CompanySize

from ..choices import LeadSource

PARAMETERS_VERSION = 1
TEST_SIZE = 0.25
RANDOM_STATE = 42
MIN_CLOSED = 100
MIN_PER_CLASS = 20
# A category becomes a feature when at least this many training leads have it (at most MAX_CATEGORIES
# per fact, the most frequent): rare values would only teach the model noise.
MIN_CATEGORY_COUNT = 5
MAX_CATEGORIES = 25
CATEGORICAL = ("source", "industry", "company_size", "country")
FLAGS = ("has_phone", "has_title", "senior_title", "business_email", "free_email", "web_form", "marketing_consent")
NUMERIC = ("activities",)

FREE_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "naver.com",
        "daum.net",
    }
)
SENIOR_WORDS = frozenset(
    {
        "chief",
        "director",
        "head",
        "vp",
        "svp",
        "evp",
        "founder",
        "cofounder",
        "co-founder",
        "owner",
        "president",
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cmo",
        "cio",
        "cso",
    }
)
SENIOR_CJK = ("总", "经理", "主任", "董事")


# What a feature means, as message ids: stored with a lead's reasons and translated when shown.
FACT_LABELS = {
    "source": gettext_noop("Source"),
    "industry": gettext_noop("Industry"),
    "company_size": gettext_noop("Company size"),
    "country": gettext_noop("Country"),
    "has_phone": gettext_noop("Has a phone number"),
    "has_title": gettext_noop("Has a job title"),
    "senior_title": gettext_noop("Senior job title"),
    "business_email": gettext_noop("Business email address"),
    "free_email": gettext_noop("Free email address"),
    "web_form": gettext_noop("Came from a web form"),
    "marketing_consent": gettext_noop("Agreed to marketing"),
    "activities": gettext_noop("Activities logged"),
}
CHOICE_LABELS = {"source": dict(LeadSource.choices), "company_size": dict(CompanySize.choices)}


def describe_feature(feature: str) -> dict[str, Any]:
    """What a feature means, for a person: ``{"label": <message id>, "value": ..., "value_label": ...}``.

    Labels are English message ids (the template translates them when it shows them); the value of a
    category is shown by its choice's label when it has one (also a message id), otherwise as it is.
    """
    name, value = split_feature(feature)
    described: dict[str, Any] = {"feature": feature, "label": FACT_LABELS.get(name, name)}
    if value:
        label = CHOICE_LABELS.get(name, {}).get(value)
        with translation.override(None):
            described["value"] = value
            described["value_label"] = str(label) if label is not None else value
    return described


def is_senior_title(title: str) -> bool:
    """Chief, director, head of, VP, founder, owner... (and 总, 经理, 主任, 董事 in Chinese titles)."""
    text = (title or "").casefold()
    if not text.strip():
        return False
    if any(word in text for word in SENIOR_CJK):
        return True
    if "vice president" in text:
        return True
    words = set(re.split(r"[^\w-]+", text))
    return bool(words & SENIOR_WORDS)


def email_domain(email: str) -> str:
    _local, at, domain = (email or "").strip().casefold().rpartition("@")
    return domain if at else ""


def lead_values(facts: dict[str, Any]) -> dict[str, float]:
    """The features a lead has (feature name -> value), from its facts (``selectors.lead_facts``).

    Categories are ``"<fact>=<value>"`` (present: 1); flags are 1 when true; ``activities`` is
    ``log(1 + number of activities)``. Features a lead does not have are left out (0).
    """
    values: dict[str, float] = {}
    for name in CATEGORICAL:
        category = category_of(name, facts.get(name))
        if category:
            values[f"{name}={category}"] = 1.0
    domain = email_domain(str(facts.get("email") or ""))
    title = str(facts.get("title") or "")
    flags = {
        "has_phone": bool(str(facts.get("phone") or "").strip()),
        "has_title": bool(title.strip()),
        "senior_title": is_senior_title(title),
        "business_email": bool(domain) and domain not in FREE_EMAIL_DOMAINS,
        "free_email": domain in FREE_EMAIL_DOMAINS,
        "web_form": bool(facts.get("web_form")),
        "marketing_consent": bool(facts.get("marketing_consent")),
    }
    values.update({name: 1.0 for name, on in flags.items() if on})
    activities = int(facts.get("activities") or 0)
    if activities > 0:
        values["activities"] = math.log1p(activities)
    return values


def category_of(name: str, value: Any) -> str:
    text = " ".join(str(value or "").split())
    return text.upper() if name == "country" else text


def split_feature(feature: str) -> tuple[str, str]:
    """``"source=referral"`` -> ``("source", "referral")``; ``"has_phone"`` -> ``("has_phone", "")``."""
    name, _sep, value = feature.partition("=")
    return name, value


# --- training ---------------------------------------------------------------------------------------------


@dataclass
class History:
    """How much history there is to learn from."""

    closed: int
    converted: int

    @property
    def not_converted(self) -> int:
        return self.closed - self.converted

    @property
    def enough(self) -> bool:
        return self.closed >= MIN_CLOSED and self.converted >= MIN_PER_CLASS and self.not_converted >= MIN_PER_CLASS

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.closed if self.closed else None


@dataclass
class Trained:
    parameters: dict[str, Any]
    roc_auc: float
    trained_on: int
    tested_on: int
    pipeline: Any = field(repr=False, default=None)  # the fitted scikit-learn pipeline (not stored)
    test_matrix: Any = field(repr=False, default=None)


def choose_features(rows: Sequence[dict[str, float]]) -> list[str]:
    """The features to learn from: frequent categories and every flag and number, in a stable order."""
    counts: Counter[str] = Counter()
    for values in rows:
        counts.update(name for name in values if "=" in name)
    features: list[str] = []
    for fact in CATEGORICAL:
        frequent = [
            (count, name)
            for name, count in counts.items()
            if name.startswith(f"{fact}=") and count >= MIN_CATEGORY_COUNT
        ]
        frequent.sort(key=lambda pair: (-pair[0], pair[1]))
        features.extend(sorted(name for _count, name in frequent[:MAX_CATEGORIES]))
    return [*features, *FLAGS, *NUMERIC]


def matrix(rows: Iterable[dict[str, float]], features: Sequence[str]) -> Any:
    import numpy as np

    index = {name: position for position, name in enumerate(features)}
    data = list(rows)
    out = np.zeros((len(data), len(features)), dtype=float)
    for row, values in enumerate(data):
        for name, value in values.items():
            column = index.get(name)
            if column is not None:
                out[row, column] = value
    return out


def train(rows: Sequence[dict[str, float]], labels: Sequence[int], *, random_state: int = RANDOM_STATE) -> Trained:
    """Fit the model on 75 % of the closed leads (stratified) and measure it on the other 25 %.

    ``rows`` are ``lead_values`` of closed leads, ``labels`` 1 for converted and 0 for not.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(labels, dtype=int)
    positions = np.arange(len(rows))
    train_at, test_at = train_test_split(positions, test_size=TEST_SIZE, stratify=y, random_state=random_state)
    features = choose_features([rows[i] for i in train_at])
    x_train = matrix((rows[i] for i in train_at), features)
    x_test = matrix((rows[i] for i in test_at), features)
    pipeline = make_pipeline(
        StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000, random_state=random_state)
    )
    pipeline.fit(x_train, y[train_at])
    auc = float(roc_auc_score(y[test_at], pipeline.predict_proba(x_test)[:, 1]))
    scaler, regression = pipeline[0], pipeline[-1]
    parameters = {
        "version": PARAMETERS_VERSION,
        "features": list(features),
        "mean": [float(v) for v in scaler.mean_],
        "scale": [float(v) for v in scaler.scale_],
        "coef": [float(v) for v in regression.coef_[0]],
        "intercept": float(regression.intercept_[0]),
    }
    return Trained(
        parameters=parameters,
        roc_auc=auc,
        trained_on=len(train_at),
        tested_on=len(test_at),
        pipeline=pipeline,
        test_matrix=x_test,
    )


# --- scoring with stored parameters ------------------------------------------------------------------------


class Formula:
    """A stored model, ready to score leads with arithmetic only."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.features: list[str] = list(parameters["features"])
        self.mean: list[float] = [float(v) for v in parameters["mean"]]
        self.scale: list[float] = [float(v) or 1.0 for v in parameters["scale"]]
        self.coef: list[float] = [float(v) for v in parameters["coef"]]
        if not len(self.features) == len(self.mean) == len(self.scale) == len(self.coef):
            raise ValueError("The model's parameters do not fit together.")
        self.intercept = float(parameters["intercept"])
        self.index = {name: position for position, name in enumerate(self.features)}
        # z = intercept + sum(coef * (x - mean) / scale) = base + sum over the lead's features of weight * x
        self.weight = [c / s for c, s in zip(self.coef, self.scale, strict=True)]
        self.base = self.intercept - sum(w * m for w, m in zip(self.weight, self.mean, strict=True))

    def log_odds(self, values: dict[str, float]) -> float:
        z = self.base
        for name, value in values.items():
            position = self.index.get(name)
            if position is not None:
                z += self.weight[position] * value
        return z

    def probability(self, values: dict[str, float]) -> float:
        z = self.log_odds(values)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    def contributions(self, values: dict[str, float]) -> list[tuple[str, float]]:
        """How much each feature the lead has moves its log-odds against an average lead
        (coefficient x scaled value), largest first. ``activities`` is always included."""
        found: list[tuple[str, float]] = []
        for position, name in enumerate(self.features):
            value = values.get(name, 0.0)
            if value == 0.0 and name not in NUMERIC:
                continue
            effect = self.coef[position] * (value - self.mean[position]) / self.scale[position]
            found.append((name, effect))
        found.sort(key=lambda pair: -abs(pair[1]))
        return found

    def top_factors(self, limit: int = 8) -> list[tuple[str, float]]:
        """The features with the largest coefficients (on the scaled values), largest first."""
        pairs = sorted(zip(self.features, self.coef, strict=True), key=lambda pair: -abs(pair[1]))
        return [(name, coef) for name, coef in pairs[:limit] if coef != 0.0]
