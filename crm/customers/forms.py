"""Forms of the customer pages: company and contact (with their email and phone rows), bulk actions.

Forms only shape input; every rule that must also hold for the API lives in ``services.py``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.accounts.forms import VersionedModelForm
from crm.accounts.models import Team
from crm.core.crypto import masking
from crm.core.widgets import AutocompleteSelectMultiple, UserSelect

from . import selectors
from .choices import ChannelKind, CompanySize, ContactSource, LifecycleStage
from .countries import country_choices
from .custom_fields.forms import CustomFieldsFormMixin
from .models import Company, Contact, Tag
from .phones import display_phone, normalize_phone
from .services import COMPANY_FIELDS, CONTACT_FIELDS, form_fields


def _active_users() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


# --- picking a company among thousands -------------------------------------------------------------


class CompanyAutocompleteWidget(forms.Widget):
    """A text box that suggests companies as one types (htmx), with the chosen id in a hidden input.

    Without JavaScript the typed name is looked up when the form is sent (an exact, unique match
    among the companies the user can see).
    """

    template_name = "customers/partials/_company_autocomplete_widget.html"
    queryset: QuerySet[Company] | None = None

    def search_name(self, name: str) -> str:
        return f"{name}_search"

    def label_for(self, value: Any) -> str:
        if value in (None, "") or self.queryset is None:
            return ""
        try:
            return self.queryset.filter(pk=int(value)).values_list("name", flat=True).first() or ""
        except (TypeError, ValueError):
            return ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["search_name"] = self.search_name(name)
        widget["search_value"] = getattr(self, "typed", None) or self.label_for(value)
        widget["url"] = reverse("customers:company_autocomplete")
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        typed = (data.get(self.search_name(name)) or "").strip()
        chosen = (data.get(name) or "").strip()
        self.typed = typed
        if self.search_name(name) not in data:
            return chosen or None  # e.g. a form sent by a script: the id alone
        if not typed:
            return None  # the box was emptied: no company
        if chosen:
            return chosen
        if self.queryset is not None:
            matches = list(self.queryset.filter(name__iexact=typed).values_list("pk", flat=True)[:2])
            if len(matches) == 1:
                return str(matches[0])
        return typed  # not a company the user can see: the field says "Select a valid choice"

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_search" if id_ else id_

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and self.search_name(name) not in data


class CompanyChoiceField(forms.ModelChoiceField):
    widget = CompanyAutocompleteWidget

    def _set_queryset(self, queryset: Any) -> None:
        super()._set_queryset(queryset)
        self.widget.queryset = self.queryset

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)  # type: ignore[assignment]


class ContactSelectMultiple(AutocompleteSelectMultiple):
    """Picks several contacts among those the user can see (deals, meetings of other modules)."""

    url_name = "customers:contact_autocomplete"
    icon = "ti-address-book"
    default_placeholder = _("Type a name or email…")


# --- company ---------------------------------------------------------------------------------------


class CompanyForm(CustomFieldsFormMixin, VersionedModelForm):
    custom_entity = "company"
    parent = CompanyChoiceField(label=_("Parent company"), queryset=Company.objects.none(), required=False)
    website = forms.URLField(label=_("Website"), max_length=300, required=False, assume_scheme="https")
    country = forms.ChoiceField(label=_("Country"), required=False)

    class Meta:
        model = Company
        fields = form_fields(COMPANY_FIELDS)
        widgets = {
            "tags": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        parents = selectors.company_list(user=user).select_related(None).order_by("name", "id")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        _ownership_fields(self, user)
        _country_field(self)
        self.fields["tags"].queryset = selectors.tag_list()
        self.fields["phone"].widget.attrs.update({"type": "tel", "autocomplete": "off"})
        self.fields["website"].widget.attrs["placeholder"] = "https://example.com"
        self.fields["size"].choices = [("", "—"), *CompanySize.choices]
        if self.instance.pk and self.instance.phone:
            self.initial["phone"] = display_phone(self.instance.phone)
        self.add_custom_fields()

    def service_data(self) -> dict[str, Any]:
        return _sent_data(self)


# --- contact ---------------------------------------------------------------------------------------


class EmailRowForm(forms.Form):
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices, initial=ChannelKind.WORK)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "off", "placeholder": "name@example.com"})
        self.fields["is_primary"].widget.attrs.update({"class": "form-check-input", "data-primary-group": "emails"})

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()


class PhoneRowForm(forms.Form):
    number = forms.CharField(label=_("Phone number"), required=False, max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices, initial=ChannelKind.MOBILE)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update({"type": "tel", "autocomplete": "off"})
        self.fields["is_primary"].widget.attrs.update({"class": "form-check-input", "data-primary-group": "phones"})

    def clean_number(self) -> str:
        raw = (self.cleaned_data.get("number") or "").strip()
        return normalize_phone(raw) if raw else ""


EmailFormSet = forms.formset_factory(EmailRowForm, extra=1, max_num=20, validate_max=True)
PhoneFormSet = forms.formset_factory(PhoneRowForm, extra=1, max_num=20, validate_max=True)


SENSITIVE_FORM_FIELDS = ("street", "postal_code", "date_of_birth", "id_number", "private_notes")


class ContactForm(CustomFieldsFormMixin, VersionedModelForm):
    """A contact with its email addresses and phone numbers (one row each, kind and primary flag), and
    its custom fields (``cf_<key>``).

    ``emails`` and ``phones`` are placeholders whose values come from the two row sets: they exist
    so a service's error about them lands next to the rows, like any field's error.
    """

    custom_entity = "contact"
    company = CompanyChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    emails = forms.Field(required=False, widget=forms.HiddenInput)
    phones = forms.Field(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contact
        fields = form_fields(CONTACT_FIELDS)
        widgets = {
            "tags": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "private_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Someone who may not see sensitive fields edits the rest of a contact; those stay as they are.
        self.sensitive_hidden = not self.instance._state.adding and not masking.may_view(user)
        if self.sensitive_hidden:
            for name in SENSITIVE_FORM_FIELDS:
                del self.fields[name]
        self.fields["company"].queryset = selectors.company_list(user=user).select_related(None).order_by("name", "id")
        _ownership_fields(self, user)
        _country_field(self)
        self.fields["tags"].queryset = selectors.tag_list()
        self.fields["lifecycle_stage"].choices = LifecycleStage.choices
        self.fields["source"].choices = [("", "—"), *ContactSource.choices]
        data = self.data if self.is_bound else None
        emails: list[dict[str, Any]] = []
        phones: list[dict[str, Any]] = []
        if self.instance.pk:
            emails = [
                {"email": e.email, "kind": e.kind, "is_primary": e.is_primary} for e in self.instance.emails.all()
            ]
            phones = [
                {"number": display_phone(p.number), "kind": p.kind, "is_primary": p.is_primary}
                for p in self.instance.phones.all()
            ]
        self.email_rows = EmailFormSet(data, prefix="emails", initial=emails)
        self.phone_rows = None if self.sensitive_hidden else PhoneFormSet(data, prefix="phones", initial=phones)
        self._stored_channels = (
            [(e["email"], e["kind"], e["is_primary"]) for e in emails],
            [(p.number, p.kind, p.is_primary) for p in self.instance.phones.all()] if self.instance.pk else [],
        )
        self.add_custom_fields()

    @property
    def name_fields(self) -> list[Any]:
        """First and last name in the order people of the current language write them: in Chinese the
        family name (姓) first."""
        first, last = self["first_name"], self["last_name"]
        return [last, first] if (translation.get_language() or "").startswith("zh") else [first, last]

    def _rows_sent(self, rows: Any) -> bool:
        """A form sent without a row set (a script posting only some fields) leaves that list alone."""
        return rows is not None and self.is_bound and f"{rows.prefix}-TOTAL_FORMS" in self.data

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for rows in (self.email_rows, self.phone_rows):
            if self._rows_sent(rows) and not rows.is_valid():
                valid = False
        return valid

    def _channel_list(self, rows: Any, key: str) -> list[dict[str, Any]] | None:
        if not self._rows_sent(rows):
            return None
        return [
            {key: row[key], "kind": row.get("kind") or "", "is_primary": bool(row.get("is_primary"))}
            for row in rows.cleaned_data
            if row.get(key)
        ]

    def service_data(self) -> dict[str, Any]:
        from . import services

        data = _sent_data(self)
        emails = self._channel_list(self.email_rows, "email")
        phones = self._channel_list(self.phone_rows, "number")
        stored_emails, stored_phones = self._stored_channels
        # Only replace the lists when they changed: an unchanged list leaves no noise in the history.
        if emails is not None:
            cleaned = services.clean_emails(emails)
            if (
                self.instance._state.adding
                or [(e["email"], e["kind"], e["is_primary"]) for e in cleaned] != stored_emails
            ):
                data["emails"] = cleaned
        if phones is not None:
            cleaned = services.clean_phones(phones)
            if (
                self.instance._state.adding
                or [(p["number"], p["kind"], p["is_primary"]) for p in cleaned] != stored_phones
            ):
                data["phones"] = cleaned
        return data


# --- shared field set-up ---------------------------------------------------------------------------


def _sent_data(form: VersionedModelForm) -> dict[str, Any]:
    """The form's values for the service. On an edit, a field the request did not send at all (a
    script posting a few fields) is left as it is rather than emptied."""
    data = form.changed_data_dict()
    data["tags"] = list(form.cleaned_data["tags"])
    for name in ("version", "emails", "phones"):
        data.pop(name, None)
    if form.instance._state.adding:
        if data.get("owner") is None:
            data.pop("owner", None)  # a new record without a chosen owner belongs to its creator
    else:
        for name in list(data):
            field = form.fields[name]
            if not isinstance(field.widget, forms.CheckboxSelectMultiple) and field.widget.value_omitted_from_data(
                form.data, form.files, form.add_prefix(name)
            ):
                del data[name]
    custom = form.custom_changes() if isinstance(form, CustomFieldsFormMixin) else None
    if custom is not None:
        data["custom"] = custom
    return data


def _ownership_fields(form: forms.ModelForm, user: Any) -> None:
    owner = form.fields["owner"]
    owner.queryset = _active_users()
    owner.widget = UserSelect(choices=owner.widget.choices)
    owner.empty_label = _("Nobody")
    team = form.fields["team"]
    team.queryset = Team.objects.order_by("name")
    team.empty_label = _("No team")
    if not form.instance.pk and not form.is_bound:
        form.initial.setdefault("owner", user.pk)
        teams = user.team_ids()
        if len(teams) == 1:
            form.initial.setdefault("team", teams[0])


def _country_field(form: forms.ModelForm) -> None:
    choices = country_choices()
    current = (form.instance.country or "").upper()
    if current and current not in {code for code, _label in choices}:
        choices.append((current, current))
    form.fields["country"].choices = choices


# --- list pages ------------------------------------------------------------------------------------


class BulkActionForm(forms.Form):
    """What to do with the rows picked in a list (``ids``)."""

    ACTIONS = (
        ("assign_owner", _("Assign owner")),
        ("add_tag", _("Add tag")),
        ("remove_tag", _("Remove tag")),
        ("set_stage", _("Change lifecycle stage")),
        ("delete", _("Delete")),
    )
    NEEDS = {"assign_owner": "owner", "add_tag": "tag", "remove_tag": "tag", "set_stage": "lifecycle_stage"}

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False, widget=UserSelect
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=LifecycleStage.choices, required=False)

    def __init__(self, *args: Any, actions: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if actions is not None:
            self.fields["action"].choices = [choice for choice in self.ACTIONS if choice[0] in actions]
        self.fields["owner"].queryset = _active_users()
        self.fields["tag"].queryset = selectors.tag_list()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        needed = self.NEEDS.get(data.get("action", ""))
        if needed and not data.get(needed):
            raise ValidationError({needed: _("Choose a value for this action.")})
        return data
