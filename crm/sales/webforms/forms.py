"""The administrator's form of a web form, and the public form a visitor fills in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.customers.choices import CompanySize
from crm.customers.countries import country_choices
from crm.customers.phones import normalize_phone

from ..choices import LeadSource
from ..models import LeadForm
from . import services
from .fields import BY_NAME, CONSENT, CONTACT_FIELDS, OFFERED, FormField

DEFAULT_FIELDS = ["first_name", "last_name", "email", "company_name", "notes"]
DEFAULT_REQUIRED = ["email"]


def default_consent_text() -> str:
    return str(_("Yes, I would like to receive news and offers by email. I can withdraw this at any time."))


def consent_label(lead_form: LeadForm) -> str:
    return lead_form.consent_text or default_consent_text()


def shows_consent(lead_form: LeadForm) -> bool:
    """Double opt-in forms always ask for consent; the others when they have a consent text."""
    return bool(lead_form.double_opt_in or lead_form.consent_text)


def required_names(lead_form: LeadForm) -> set[str]:
    """The fields a visitor must fill in: the required ones, and the only way to reply when the form
    asks for just one of email and phone."""
    required = {name for name in lead_form.required_fields or [] if name in BY_NAME}
    asked = [name for name in CONTACT_FIELDS if name in (lead_form.fields or [])]
    if len(asked) == 1:
        required.add(asked[0])
    return required


def choices_of(field: FormField) -> list[tuple[str, str]] | None:
    """The options of a field picked from a list (in the current language), ``None`` for typed ones."""
    if field.kind == "country":
        return country_choices()
    if field.kind == "company_size":
        return [("", "—"), *((str(value), str(label)) for value, label in CompanySize.choices)]
    return None


# --- the administrator's form -------------------------------------------------------------------------------


class LeadFormForm(forms.Form):
    """Add or edit a web form. The fields asked for arrive in the order of the page's rows (which can
    be dragged), so ``fields`` keeps the order the visitor will see."""

    name = forms.CharField(
        label=_("Name"),
        max_length=services.NAME_MAX_LENGTH,
        help_text=_("The title of the hosted page, and how the form is listed here."),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required"), choices=[(field.name, field.label) for field in OFFERED], required=False
    )
    thank_you = forms.CharField(
        label=_("Thank-you text"),
        required=False,
        max_length=services.THANK_YOU_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown after a visitor sends the form. Left empty, a short thank-you is shown."),
    )
    double_opt_in = forms.BooleanField(
        label=_("Double opt-in for marketing consent"),
        required=False,
        help_text=_(
            "The form asks for consent to marketing emails; it counts only once the visitor opens the link "
            "we email them. Without double opt-in, a ticked box counts at once."
        ),
    )
    consent_text = forms.CharField(
        label=_("Consent text"),
        required=False,
        max_length=services.CONSENT_TEXT_MAX_LENGTH,
        help_text=_(
            "The text beside the consent box. Without double opt-in the box is shown only when this is filled in."
        ),
    )
    source = forms.ChoiceField(label=_("Source of the leads"), choices=LeadSource.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, instance: LeadForm | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "fields": list(instance.fields or []),
                    "required_fields": list(instance.required_fields or []),
                    "thank_you": instance.thank_you,
                    "double_opt_in": instance.double_opt_in,
                    "consent_text": instance.consent_text,
                    "source": instance.source,
                    "version": instance.version,
                },
            )
        else:
            kwargs.setdefault(
                "initial",
                {
                    "fields": DEFAULT_FIELDS,
                    "required_fields": DEFAULT_REQUIRED,
                    "double_opt_in": True,
                    "source": LeadSource.WEB_FORM,
                },
            )
        self.instance = instance
        super().__init__(*args, **kwargs)
        # Declared here: on the class, a field called "fields" would hide the form's own ``fields``.
        self.fields["fields"] = forms.MultipleChoiceField(
            label=_("Fields"), choices=[(field.name, field.label) for field in OFFERED], required=False
        )
        self.order_fields(["name", "fields"])
        self.fields["consent_text"].widget.attrs["placeholder"] = default_consent_text()

    def rows(self) -> list[dict[str, Any]]:
        """One row per offered field: the asked ones first, in their order, then the others."""
        asked = [name for name in (self["fields"].value() or []) if name in BY_NAME]
        required = set(self["required_fields"].value() or [])
        order = asked + [field.name for field in OFFERED if field.name not in asked]
        return [{"field": BY_NAME[name], "asked": name in asked, "required": name in required} for name in order]

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in services.EDITABLE if name in self.cleaned_data}
        data["fields"] = list(self.cleaned_data["fields"])
        # A required box ticked on a row that is not asked for is the same as not ticked.
        data["required_fields"] = [name for name in self.cleaned_data["required_fields"] if name in data["fields"]]
        return data


# --- the visitor's form ----------------------------------------------------------------------------------------


def _input(field: FormField, *, required: bool) -> forms.Field:
    attrs: dict[str, Any] = {"autocomplete": field.autocomplete} if field.autocomplete else {}
    common: dict[str, Any] = {"label": field.label, "required": required}
    choices = choices_of(field)
    if choices is not None:
        return forms.ChoiceField(choices=choices, widget=forms.Select(attrs=attrs), **common)
    if field.kind == "email":
        return forms.EmailField(max_length=field.max_length, widget=forms.EmailInput(attrs=attrs), **common)
    if field.kind == "url":
        return forms.URLField(
            max_length=field.max_length,
            assume_scheme="https",
            widget=forms.URLInput(attrs={**attrs, "placeholder": "https://"}),
            **common,
        )
    if field.kind == "textarea":
        return forms.CharField(max_length=field.max_length, widget=forms.Textarea(attrs={"rows": 4}), **common)
    if field.kind == "tel":
        attrs["type"] = "tel"
    return forms.CharField(max_length=field.max_length, widget=forms.TextInput(attrs=attrs), **common)


class SubmissionForm(forms.Form):
    """What a visitor sends: the fields the web form asks for, and the consent box where it has one."""

    def __init__(self, *args: Any, lead_form: LeadForm, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead_form = lead_form
        required = required_names(lead_form)
        for name in lead_form.fields or []:
            if name in BY_NAME:
                self.fields[name] = _input(BY_NAME[name], required=name in required)
        if shows_consent(lead_form):
            self.fields[CONSENT] = forms.BooleanField(label=consent_label(lead_form), required=False)

    @property
    def lead_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name != CONSENT]

    @property
    def consent_field(self) -> Any:
        return self[CONSENT] if CONSENT in self.fields else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        phone = cleaned.get("phone")
        if phone:
            try:
                cleaned["phone"] = normalize_phone(phone, region=cleaned.get("country") or None)
            except ValidationError as exc:
                self.add_error("phone", exc)
        asked = [name for name in CONTACT_FIELDS if name in self.fields]
        if len(asked) > 1 and not self.errors and not any(cleaned.get(name) for name in asked):
            self.add_error(asked[0], _("Enter an email address or a phone number so that we can reply."))
        return cleaned

    def lead_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != CONSENT}

    @property
    def consent(self) -> bool:
        return bool(self.cleaned_data.get(CONSENT))
