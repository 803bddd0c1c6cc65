"""Forms of the lead pages and of their settings pages. They only shape input: every rule that must
also hold for the API, an import or a web form lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team
from crm.core import money
from crm.core.widgets import FastSelectMultiple, UserSelect
from crm.customers.choices import CompanySize
from crm.customers.countries import country_choices
from crm.customers.phones import display_phone, normalize_phone

from ..choices import AssignmentMethod, LeadSource, LeadStatus
from ..models import Lead
from . import services

# Statuses a person picks; "converted" is reached by converting.
PICKABLE_STATUSES = [(value, label) for value, label in LeadStatus.choices if value != LeadStatus.CONVERTED]
EDITABLE = services.LEAD_FIELDS  # the fields a person edits are the service's writable ones


def _active_users() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class LeadEditForm(forms.Form):
    """A lead's fields. A plain form (not a model form): the instance stays as it was loaded until the
    service has checked and saved the change."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        required=False,
        help_text=_("Filled from first and last name; type it for names such as 王芳."),
    )
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("Any format; without a country code it is read as a number of your default country."),
    )
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    company_size = forms.ChoiceField(label=_("Company size"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    region = forms.CharField(label=_("State or province"), max_length=100, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices, initial=LeadSource.OTHER)
    status = forms.ChoiceField(label=_("Status"), choices=PICKABLE_STATUSES, initial=LeadStatus.NEW)
    interest = forms.CharField(
        label=_("Interest"), max_length=200, required=False, help_text=_("What they want to buy.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=50_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    marketing_consent = forms.BooleanField(label=_("Agreed to marketing"), required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )

    def __init__(self, *args: Any, instance: Lead | None = None, user: Any = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            initial = {name: getattr(instance, name) for name in EDITABLE if name not in {"owner", "team"}}
            initial.update(owner=instance.owner_id, team=instance.team_id, version=instance.version)
            if instance.phone:
                initial["phone"] = display_phone(instance.phone)
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = _active_users()  # type: ignore[attr-defined]
        owner.widget = UserSelect(choices=owner.widget.choices)
        owner.empty_label = _("Nobody")  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["company_size"].choices = [("", "—"), *CompanySize.choices]  # type: ignore[attr-defined]
        choices = country_choices()
        current = (getattr(instance, "country", "") or "").upper()
        if current and current not in {code for code, _label in choices}:
            choices.append((current, current))
        self.fields["country"].choices = choices  # type: ignore[attr-defined]
        self.fields["email"].widget.attrs.update({"type": "email", "autocomplete": "off"})
        self.fields["phone"].widget.attrs.update({"type": "tel", "autocomplete": "off"})
        self.fields["website"].widget.attrs["placeholder"] = "https://example.com"
        if instance is None:
            owner.help_text = _("Leave empty to let the assignment rules choose.")
        else:
            self.fields["version"].required = True
            if instance.status == LeadStatus.CONVERTED:
                self.fields["status"].choices = LeadStatus.choices  # type: ignore[attr-defined]
                self.fields["status"].disabled = True

    def clean_phone(self) -> str:
        raw = (self.cleaned_data.get("phone") or "").strip()
        return normalize_phone(raw) if raw else ""

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in EDITABLE if name in self.cleaned_data}
        if self.instance is None and data.get("owner") is None:
            data.pop("owner", None)  # the assignment rules choose
        if self.instance is not None and self.fields["status"].disabled:
            data.pop("status", None)
        return data


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=PICKABLE_STATUSES)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class LeadBulkForm(forms.Form):
    """What to do with the leads picked in the list (``ids``): give them to another owner."""

    ACTIONS = (("assign_owner", _("Assign owner")),)

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), widget=UserSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_users()  # type: ignore[attr-defined]
        self.fields["owner"].error_messages["required"] = _("Choose the new owner.")


NEW = "new"


class ConvertForm(forms.Form):
    """Converting a lead: which contact and company to reuse (or create), and the deal, if any."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    contact = forms.ChoiceField(label=_("Contact"), widget=forms.RadioSelect)
    company = forms.ChoiceField(label=_("Company"), widget=forms.RadioSelect, required=False)
    create_deal = forms.BooleanField(label=_("Create a deal"), required=False, initial=True)
    pipeline: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=None, required=False, empty_label=None
    )
    deal_name = forms.CharField(label=_("Deal name"), max_length=200, required=False)
    amount = forms.CharField(label=_("Amount"), max_length=30, required=False)
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self, *args: Any, lead: Lead, plan: Any, pipelines: QuerySet[Any], deal_name: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lead = lead
        self.plan = plan
        contact_choices = [(str(contact.pk), str(contact.pk)) for contact in plan.contact_candidates]
        self.fields["contact"].choices = [*contact_choices, (NEW, _("Create a new contact"))]  # type: ignore[attr-defined]
        self.fields["contact"].initial = str(plan.contact.pk) if plan.contact else NEW
        company_choices = [(str(company.pk), str(company.pk)) for company in plan.company_candidates]
        self.fields["company"].choices = [*company_choices, (NEW, _("Create a new company"))]  # type: ignore[attr-defined]
        self.fields["company"].initial = str(plan.company.pk) if plan.company else NEW
        self.fields["pipeline"].queryset = pipelines  # type: ignore[attr-defined]
        default = next((p for p in pipelines if p.is_default), None) or next(iter(pipelines), None)
        self.fields["pipeline"].initial = default.pk if default else None
        self.fields["currency"].choices = money.currency_choices()  # type: ignore[attr-defined]
        self.fields["currency"].initial = money.base_currency()
        self.fields["deal_name"].initial = deal_name
        self.fields["deal_name"].widget.attrs["placeholder"] = deal_name
        self.fields["amount"].widget.attrs.update(
            {"inputmode": "decimal", "placeholder": "0.00", "autocomplete": "off"}
        )
        self.fields["create_deal"].initial = bool(default)
        if version := getattr(lead, "version", None):
            self.fields["version"].initial = version

    def service_kwargs(self) -> dict[str, Any]:
        """The choices, in the terms of ``services.lead_convert`` (ids are looked up by the view)."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"version": data.get("version")}
        contact = data.get("contact") or NEW
        company = data.get("company") or NEW
        kwargs["new_contact"] = contact == NEW
        kwargs["new_company"] = company == NEW
        kwargs["contact_id"] = None if contact == NEW else int(contact)
        kwargs["company_id"] = None if company == NEW else int(company)
        if data.get("create_deal"):
            kwargs["deal"] = {
                "pipeline": data.get("pipeline"),
                "deal_name": data.get("deal_name") or "",
                "amount": data.get("amount") or "",
                "currency": data.get("currency") or "",
                "expected_close_date": data.get("expected_close_date"),
            }
        return kwargs


# --- settings --------------------------------------------------------------------------------------


class AssignmentRuleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    method = forms.ChoiceField(
        label=_("Who gets the lead"),
        choices=AssignmentMethod.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("No team"),
        help_text=_("For round robin and fewest open leads: its members who are not away take turns."),
    )
    user = forms.ModelChoiceField(
        label=_("Person"), queryset=get_user_model().objects.none(), required=False, widget=UserSelect
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        required=False,
        widget=FastSelectMultiple(attrs={"size": 6}),
        help_text=_("Leave empty for any country. Hold Ctrl (⌘ on a Mac) to pick several."),
    )
    regions = forms.CharField(
        label=_("States or provinces"),
        required=False,
        max_length=5000,
        help_text=_("Separate them by commas; empty for any."),
    )
    industries = forms.CharField(
        label=_("Industries"), required=False, max_length=5000, help_text=_("Separate them by commas; empty for any.")
    )
    company_sizes = forms.MultipleChoiceField(
        label=_("Company sizes"),
        required=False,
        choices=CompanySize.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    sources = forms.MultipleChoiceField(
        label=_("Sources"),
        required=False,
        choices=LeadSource.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "version": instance.version,
                "name": instance.name,
                "is_active": instance.is_active,
                "method": instance.method,
                "team": instance.team_id,
                "user": instance.user_id,
                "countries": list(instance.countries or []),
                "regions": ", ".join(instance.regions or []),
                "industries": ", ".join(instance.industries or []),
                "company_sizes": list(instance.company_sizes or []),
                "sources": list(instance.sources or []),
            }
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["user"].queryset = _active_users()  # type: ignore[attr-defined]
        self.fields["user"].help_text = _("For “a named person”: gets every lead the rule matches, unless away.")
        self.fields["countries"].choices = country_choices()[1:]  # type: ignore[attr-defined]
        if instance is not None:
            self.fields["version"].required = True

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.fields if name != "version"}
        for name in ("regions", "industries"):
            data[name] = [part.strip() for part in (data.get(name) or "").split(",") if part.strip()]
        return data


class SalesSettingsForm(forms.Form):
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)
    fallback_owner = forms.ModelChoiceField(
        label=_("Fallback owner"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=UserSelect,
        help_text=_("Gets new leads that no rule assigns."),
    )
    lead_response_hours = forms.IntegerField(
        label=_("Reassign untouched leads after (hours)"),
        min_value=0,
        max_value=24 * 365,
        help_text=_("A new lead nobody has worked within this time goes to the next person; 0 turns it off."),
    )
    stale_deal_days = forms.IntegerField(
        label=_("A deal is stale after (days without activity)"), min_value=0, max_value=3650
    )

    def __init__(self, *args: Any, instance: Any, **kwargs: Any) -> None:
        self.instance = instance
        if "initial" not in kwargs:
            kwargs["initial"] = {
                "loaded_at": instance.updated_at.isoformat() if instance.updated_at else "",
                "fallback_owner": instance.fallback_owner_id,
                "lead_response_hours": instance.lead_response_hours,
                "stale_deal_days": instance.stale_deal_days,
            }
        super().__init__(*args, **kwargs)
        self.fields["fallback_owner"].queryset = _active_users()  # type: ignore[attr-defined]

    def clean_loaded_at(self) -> Any:
        from django.utils.dateparse import parse_datetime

        try:
            return parse_datetime(self.cleaned_data.get("loaded_at") or "")
        except ValueError:
            return None

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields if name != "loaded_at"}
