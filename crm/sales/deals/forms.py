"""Forms of the deal pages: the deal, closing it as won or lost, and a pipeline with its stages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team
from crm.core import money
from crm.core.widgets import UserSelect
from crm.customers import selectors as customer_selectors
from crm.customers.forms import CompanyChoiceField, ContactSelectMultiple

from ..choices import LeadSource, StageKind
from ..models import Competitor, Deal, LossReason, Pipeline, Stage
from . import selectors


class DealForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), empty_label=None)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, required=False, localize=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    probability = forms.IntegerField(
        label=_("Win probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty to use the stage's probability."),
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    company = CompanyChoiceField(label=_("Company"), queryset=None, required=False)
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts"), queryset=None, required=False, widget=ContactSelectMultiple()
    )
    competitors = forms.ModelMultipleChoiceField(
        label=_("Competitors"), queryset=Competitor.objects.all(), required=False
    )
    source = forms.ChoiceField(label=_("Source"), choices=[("", "—"), *LeadSource.choices], required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False, widget=UserSelect())
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)

    def __init__(self, *args: Any, user: Any, instance: Deal | None = None, **kwargs: Any) -> None:
        initial = kwargs.pop("initial", None) or {}
        if instance is not None:
            initial = {
                "name": instance.name,
                "pipeline": instance.pipeline_id,
                "stage": instance.stage_id,
                "amount": instance.amount,
                "currency": instance.currency,
                "probability": instance.probability,
                "expected_close_date": instance.expected_close_date,
                "company": instance.company_id,
                "contacts": [c.pk for c in instance.contacts.all()],
                "competitors": [c.pk for c in instance.competitors.all()],
                "source": instance.source,
                "next_step": instance.next_step,
                "description": instance.description,
                "owner": instance.owner_id,
                "team": instance.team_id,
                **initial,
            }
        else:
            default = selectors.pipeline_default()
            initial = {"pipeline": default.pk if default else None, "currency": money.base_currency(), **initial}
            initial.setdefault("owner", user.pk)
        super().__init__(*args, initial=initial, **kwargs)
        self.instance = instance
        self.fields["pipeline"].queryset = selectors.pipeline_list()
        self.fields["stage"].queryset = Stage.objects.select_related("pipeline").order_by("pipeline", "order")
        self.fields["stage"].label_from_instance = lambda stage: f"{stage.pipeline} · {stage.name}"
        self.fields["currency"].choices = money.currency_choices()
        self.fields["company"].queryset = customer_selectors.company_list(user=user).select_related(None)
        self.fields["contacts"].queryset = customer_selectors.contact_list(user=user).select_related(None)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pipeline, stage = data.get("pipeline"), data.get("stage")
        if pipeline and stage and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("This stage belongs to another pipeline."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("probability") is None:
            data.pop("probability", None)
        if data.get("amount") is None:
            data["amount"] = 0
        return data


class DealCloseForm(forms.Form):
    """Won or lost; a loss asks why and who won."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("won", _("Won")), ("lost", _("Lost"))], widget=forms.RadioSelect
    )
    loss_reason = forms.ModelChoiceField(label=_("Loss reason"), queryset=LossReason.objects.none(), required=False)
    lost_to = forms.ModelChoiceField(label=_("Lost to"), queryset=Competitor.objects.all(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loss_reason"].queryset = selectors.loss_reason_list()


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_default = forms.BooleanField(label=_("Default pipeline"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


STAGE_KIND_CHOICES = StageKind.choices


class StageForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Stage"), max_length=100)
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0, max_value=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=STAGE_KIND_CHOICES)


StageFormSet = forms.formset_factory(StageForm, extra=1, can_delete=True, max_num=30, validate_max=True)
