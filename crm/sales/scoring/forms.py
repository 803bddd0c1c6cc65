"""Forms of the lead scoring page: a rule, and the weight of the predicted part."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..choices import ScoringKind, ScoringOperator
from ..models import ScoringRule
from .rules import fact_choices


class RuleForm(forms.Form):
    """A scoring rule. The service checks the condition (a number for “is at least”, a list for “is one
    of”...) and its messages land next to the inputs."""

    name = forms.CharField(label=_("Name"), max_length=100)
    field = forms.ChoiceField(label=_("Fact"), choices=())
    operator = forms.ChoiceField(label=_("Condition"), choices=ScoringOperator.choices)
    value = forms.CharField(
        label=_("Value"),
        max_length=200,
        required=False,
        help_text=_(
            "For “is one of”, separate the values with commas. Text is compared without regard to case; "
            "“contains” finds a part, such as a domain in an email address. Leave empty for “is filled in”."
        ),
    )
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-100,
        max_value=100,
        help_text=_("From -100 to 100; negative points lower the score."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("As the fact suggests")), *ScoringKind.choices],
        required=False,
        help_text=_("Groups the rules on the page: fit (who the lead is) or engagement (what the lead did)."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, instance: ScoringRule | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "field": instance.field,
                "operator": instance.operator,
                "value": instance.value,
                "points": instance.points,
                "kind": instance.kind,
                "is_active": instance.is_active,
                "version": instance.version,
            }
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = fact_choices()  # type: ignore[attr-defined]
        if instance is not None:
            self.fields["version"].required = True

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in ("name", "field", "operator", "value", "points")}
        data["value"] = data["value"] or ""
        data["kind"] = self.cleaned_data.get("kind") or ""
        data["is_active"] = bool(self.cleaned_data.get("is_active"))
        return data


class WeightForm(forms.Form):
    weight = forms.IntegerField(
        label=_("Weight of the predicted score (%)"),
        min_value=0,
        max_value=100,
        help_text=_("How much of a lead's score comes from the model once one is trained; the rest from rules."),
    )
