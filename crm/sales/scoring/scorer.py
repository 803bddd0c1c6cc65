"""A lead's score from its facts: the rules' points, the model's probability, the weight between them, and
the reasons shown with the score. Pure: the services load the rules, the model and the weight once and
score any number of leads with one ``Scorer``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import rules as rule_vocabulary
from .model import Formula, describe_feature, lead_values

MAX_REASONS = 5
MIN_EFFECT = 0.05  # contributions smaller than this (in log-odds) are not worth a reason


@dataclass(frozen=True)
class RuleSpec:
    pk: int
    name: str
    field: str
    operator: str
    value: str
    points: int


@dataclass(frozen=True)
class Score:
    score: int
    rule_score: int
    model_score: int | None
    reasons: list[dict[str, Any]]

    def as_fields(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "rule_score": self.rule_score,
            "model_score": self.model_score,
            "score_reasons": self.reasons,
        }


def round_half_up(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


class Scorer:
    """Scores leads with the given active rules, the active model's parameters (or ``None``) and the
    weight of the model's part in percent (0-100)."""

    def __init__(self, *, rules: list[RuleSpec], parameters: dict[str, Any] | None, weight: int) -> None:
        self.rules = rules
        self.formula = Formula(parameters) if parameters else None
        self.weight = max(0, min(100, int(weight)))

    @property
    def needs_activities(self) -> bool:
        """Does scoring read how many activities were logged about a lead?"""
        if any(rule.field == "activities" for rule in self.rules):
            return True
        return self.formula is not None and "activities" in self.formula.index

    def score(self, facts: dict[str, Any]) -> Score:
        matched = [
            rule
            for rule in self.rules
            if rule_vocabulary.matches(field=rule.field, operator=rule.operator, value=rule.value, facts=facts)
        ]
        rules_part = rule_vocabulary.rule_score([rule.points for rule in matched])
        rule_reasons = [
            {"kind": "rule", "label": rule.name, "points": rule.points, "rule": rule.pk}
            for rule in sorted(matched, key=lambda rule: (-abs(rule.points), rule.name))
        ]
        if self.formula is None:
            return Score(score=rules_part, rule_score=rules_part, model_score=None, reasons=rule_reasons[:MAX_REASONS])
        values = lead_values(facts)
        model_part = round_half_up(100 * self.formula.probability(values))
        model_part = max(0, min(100, model_part))
        total = round_half_up((self.weight * model_part + (100 - self.weight) * rules_part) / 100)
        model_reasons = [
            self.model_reason(feature, effect, facts)
            for feature, effect in self.formula.contributions(values)
            if abs(effect) >= MIN_EFFECT
        ]
        return Score(
            score=max(0, min(100, total)),
            rule_score=rules_part,
            model_score=model_part,
            reasons=merge_reasons(rule_reasons, model_reasons),
        )

    @staticmethod
    def model_reason(feature: str, effect: float, facts: dict[str, Any]) -> dict[str, Any]:
        reason = {"kind": "model", **describe_feature(feature), "effect": round(effect, 2)}
        if feature == "activities":
            reason["count"] = int(facts.get("activities") or 0)
        return reason


def merge_reasons(rule_reasons: list[dict[str, Any]], model_reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to five reasons: the strongest rules first, then the model's strongest contributions (at least
    two places for the model when it has something to say: its strongest contribution and the strongest
    one pulling the other way, when there is one). ``model_reasons`` come strongest first."""
    ordered: list[dict[str, Any]] = []
    if model_reasons:
        first = model_reasons[0]
        opposite = next((r for r in model_reasons if (r["effect"] > 0) != (first["effect"] > 0)), None)
        ordered = [first, *([opposite] if opposite is not None else [])]
        ordered += [r for r in model_reasons[1:] if r is not opposite]
    model_room = min(len(ordered), 3)
    rule_count = min(len(rule_reasons), MAX_REASONS - min(model_room, 2))
    model_count = min(model_room, MAX_REASONS - rule_count)
    chosen = sorted(ordered[:model_count], key=lambda r: -abs(r["effect"]))
    return rule_reasons[:rule_count] + chosen
