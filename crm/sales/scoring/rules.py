"""The vocabulary of scoring rules: which facts of a lead a rule may test, with which conditions, how a
rule's value is checked and normalised, and whether a lead satisfies a rule.

A rule tests one *fact* of a lead: one of its fields (fit) or an engagement figure (how many activities
were logged about it, whether it came in through a web form). Pure functions: nothing here reads the
database; ``selectors.lead_facts`` gathers the facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.customers.choices import CompanySize

from ..choices import LeadSource, ScoringKind, ScoringOperator

Op = ScoringOperator

TEXT, CHOICE, COUNTRY, BOOLEAN, NUMBER = "text", "choice", "country", "boolean", "number"

# The conditions each type of fact takes.
OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: (Op.EQUALS, Op.CONTAINS, Op.IN, Op.NOT_EMPTY),
    CHOICE: (Op.EQUALS, Op.IN, Op.NOT_EMPTY),
    COUNTRY: (Op.EQUALS, Op.IN, Op.NOT_EMPTY),
    BOOLEAN: (Op.EQUALS,),
    NUMBER: (Op.AT_LEAST, Op.EQUALS),
}

YES, NO = "yes", "no"
MAX_NUMBER = 1_000_000
MAX_POINTS = 100
LIST_SEPARATORS = re.compile(r"[,，、;；\n]")


@dataclass(frozen=True)
class Fact:
    key: str
    label: Any
    type: str
    kind: str  # the kind of rule it usually makes: fit or engagement
    choices: tuple[tuple[str, Any], ...] = ()


FACTS: dict[str, Fact] = {
    fact.key: fact
    for fact in (
        Fact("source", gettext_lazy("Source"), CHOICE, ScoringKind.FIT, tuple(LeadSource.choices)),
        Fact("industry", gettext_lazy("Industry"), TEXT, ScoringKind.FIT),
        Fact("company_size", gettext_lazy("Company size"), CHOICE, ScoringKind.FIT, tuple(CompanySize.choices)),
        Fact("country", gettext_lazy("Country"), COUNTRY, ScoringKind.FIT),
        Fact("region", gettext_lazy("State or province"), TEXT, ScoringKind.FIT),
        Fact("title", gettext_lazy("Job title"), TEXT, ScoringKind.FIT),
        Fact("email", gettext_lazy("Email"), TEXT, ScoringKind.FIT),
        Fact("phone", gettext_lazy("Phone"), TEXT, ScoringKind.FIT),
        Fact("company_name", gettext_lazy("Company"), TEXT, ScoringKind.FIT),
        Fact("website", gettext_lazy("Website"), TEXT, ScoringKind.FIT),
        Fact("interest", gettext_lazy("Interest"), TEXT, ScoringKind.FIT),
        Fact("marketing_consent", gettext_lazy("Agreed to marketing"), BOOLEAN, ScoringKind.ENGAGEMENT),
        Fact("activities", gettext_lazy("Activities logged"), NUMBER, ScoringKind.ENGAGEMENT),
        Fact("web_form", gettext_lazy("Came from a web form"), BOOLEAN, ScoringKind.ENGAGEMENT),
    )
}

# Lead fields read to evaluate rules (the engagement facts are counted or derived).
LEAD_FIELDS = tuple(key for key in FACTS if key not in ("activities", "web_form"))


def fact_choices() -> list[tuple[str, Any]]:
    """The facts as (key, label) pairs for a form's select."""
    return [(fact.key, fact.label) for fact in FACTS.values()]


def split_list(value: str) -> list[str]:
    """``"Software, Retail；Banking"`` -> ``["Software", "Retail", "Banking"]``."""
    return [item.strip() for item in LIST_SEPARATORS.split(value or "") if item.strip()]


# --- checking a rule ---------------------------------------------------------------------------------------


def _choice_value(fact: Fact, text: str) -> str:
    """A choice's stored value from its value or its label (in English or the current language)."""
    folded = text.strip().casefold()
    for value, label in fact.choices:
        if folded in (str(value).casefold(), str(label).casefold()):
            return str(value)
    raise ValidationError(
        _("“%(value)s” is not one of the choices of %(fact)s: %(choices)s.")
        % {"value": text, "fact": fact.label, "choices": ", ".join(str(label) for _value, label in fact.choices)}
    )


def _country_value(text: str) -> str:
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValidationError(
            _("Enter two-letter country codes, such as CN or US (“%(value)s” is not one).") % {"value": text}
        )
    return code


def _one_value(fact: Fact, text: str) -> str:
    if fact.type == CHOICE:
        return _choice_value(fact, text)
    if fact.type == COUNTRY:
        return _country_value(text)
    return " ".join(text.split())


def clean_condition(field: Any, operator: Any, value: Any) -> tuple[str, str, str]:
    """Check what a rule tests and return ``(field, operator, value)`` normalised for storage.

    Raises ``ValidationError`` with every problem next to its input (``field``, ``operator``, ``value``).
    """
    fact = FACTS.get(field) if isinstance(field, str) else None
    if fact is None:
        raise ValidationError({"field": _("Choose one of the facts a rule can test.")})
    if operator not in Op.values:
        raise ValidationError({"operator": _("Choose a condition.")})
    allowed = OPERATORS[fact.type]
    if operator not in allowed:
        if operator == Op.AT_LEAST:
            message = _("“is at least” compares numbers: use it with “%(fact)s”.") % {"fact": FACTS["activities"].label}
        else:
            message = _("%(fact)s cannot be tested with “%(operator)s”; choose one of: %(allowed)s.") % {
                "fact": fact.label,
                "operator": Op(operator).label,
                "allowed": ", ".join(f"“{Op(name).label}”" for name in allowed),
            }
        raise ValidationError({"operator": message})
    if value is None:
        value = ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError({"value": _("Enter the value as text.")})
    text = str(value).strip()
    if len(text) > 200:
        raise ValidationError({"value": _("Enter at most %(limit)d characters.") % {"limit": 200}})
    if operator == Op.NOT_EMPTY:
        return field, operator, ""
    if not text:
        raise ValidationError({"value": _("Enter the value to compare with.")})
    try:
        if fact.type == NUMBER:
            if not re.fullmatch(r"\d{1,7}", text) or int(text) > MAX_NUMBER:
                raise ValidationError(_("Enter a whole number from 0 to %(limit)d, such as 3.") % {"limit": MAX_NUMBER})
            return field, operator, str(int(text))
        if fact.type == BOOLEAN:
            folded = text.casefold()
            if folded in ("yes", "true", "1", str(_("yes")).casefold(), "是"):
                return field, operator, YES
            if folded in ("no", "false", "0", str(_("no")).casefold(), "否"):
                return field, operator, NO
            raise ValidationError(_("Enter yes or no."))
        if operator == Op.IN:
            items = split_list(text)
            if not items:
                raise ValidationError(_("List the values separated by commas, such as “Software, Retail”."))
            values: list[str] = []
            for item in items:
                normalised = _one_value(fact, item)
                if normalised.casefold() not in (v.casefold() for v in values):
                    values.append(normalised)
            joined = ", ".join(values)
            if len(joined) > 200:
                raise ValidationError(_("Enter at most %(limit)d characters.") % {"limit": 200})
            return field, operator, joined
        if operator == Op.EQUALS and "," in text and fact.type != TEXT:
            raise ValidationError(_("“is” compares with one value: to list several, choose “is one of”."))
        return field, operator, _one_value(fact, text)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from None


def clean_points(points: Any) -> int:
    if isinstance(points, bool):
        raise ValidationError({"points": _("Enter a whole number from -100 to 100.")})
    if isinstance(points, str) and re.fullmatch(r"\s*[+-]?\d{1,4}\s*", points):
        points = int(points)
    if not isinstance(points, int) or not -MAX_POINTS <= points <= MAX_POINTS:
        raise ValidationError({"points": _("Enter a whole number from -100 to 100.")})
    if points == 0:
        raise ValidationError({"points": _("A rule worth 0 points changes nothing: give it from -100 to 100 points.")})
    return points


# --- evaluating ---------------------------------------------------------------------------------------------


def matches(*, field: str, operator: str, value: str, facts: dict[str, Any]) -> bool:
    """Does a lead with ``facts`` (fact key -> value, see ``selectors.lead_facts``) satisfy the rule?"""
    fact = FACTS.get(field)
    if fact is None:
        return False
    actual = facts.get(field)
    if fact.type == NUMBER:
        number = int(actual or 0)
        if not value.isdigit():
            return False
        return number >= int(value) if operator == Op.AT_LEAST else number == int(value)
    if fact.type == BOOLEAN:
        return bool(actual) == (value == YES)
    text = " ".join(str(actual or "").split())
    if operator == Op.NOT_EMPTY:
        return bool(text)
    if not text:
        return False
    folded = text.casefold()
    if operator == Op.EQUALS:
        return folded == value.casefold()
    if operator == Op.CONTAINS:
        return value.casefold() in folded
    if operator == Op.IN:
        return folded in {item.casefold() for item in split_list(value)}
    return False


def rule_score(points: list[int]) -> int:
    """The rules' part of a score: the points of the rules a lead satisfies, between 0 and 100."""
    return max(0, min(100, sum(points)))


def describe_value(field: str, value: str) -> str:
    """A rule's value as a person reads it: choices by their label, yes/no in the current language."""
    fact = FACTS.get(field)
    if fact is None:
        return value
    if fact.type == BOOLEAN:
        return str(_("yes")) if value == YES else str(_("no"))
    if fact.type == CHOICE:
        labels = dict(fact.choices)
        return ", ".join(str(labels.get(item, item)) for item in split_list(value)) if value else ""
    return value
