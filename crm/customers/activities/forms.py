"""Forms of the activity and task pages. They only read input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.selectors import assignable_users
from crm.core.widgets import UserSelect, UserSelectMultiple

from .. import selectors as customer_selectors
from ..choices import ActivityDirection, ActivityKind, CallOutcome, TaskPriority

# The fields each type of activity asks for, in the order they are shown.
KIND_FORM_FIELDS: dict[str, tuple[str, ...]] = {
    ActivityKind.NOTE: ("body", "occurred_at"),
    ActivityKind.CALL: ("direction", "outcome", "duration_minutes", "occurred_at", "subject", "body"),
    ActivityKind.MEETING: ("subject", "starts_at", "ends_at", "location", "attendees", "body"),
    ActivityKind.EMAIL: ("direction", "subject", "body", "occurred_at"),
}
BODY_LABELS: dict[str, Any] = {
    ActivityKind.NOTE: _("Note"),
    ActivityKind.CALL: _("Notes"),
    ActivityKind.MEETING: _("Notes"),
    ActivityKind.EMAIL: _("Message"),
}
CONTROL_FIELDS = ("kind", "contact", "company", "version", "panel")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class RecordFieldsMixin(forms.Form):
    """The contact and company a record belongs to: hidden, limited to what the user can see."""

    contact: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, widget=forms.HiddenInput
    )
    company: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, widget=forms.HiddenInput
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    panel = forms.CharField(required=False, widget=forms.HiddenInput)

    def setup_records(self, user: Any, editing: bool) -> None:
        if editing:
            del self.fields["contact"], self.fields["company"]
            return
        self.fields["contact"].queryset = customer_selectors.contact_list(user=user)  # type: ignore[attr-defined]
        self.fields["company"].queryset = customer_selectors.company_list(user=user)  # type: ignore[attr-defined]

    def add_error(self, field: str | None, error: Any) -> None:
        # Errors of hidden fields are shown above the form, where a person can read them.
        if field in CONTROL_FIELDS:
            field = None
        super().add_error(field, error)


class ActivityForm(RecordFieldsMixin):
    kind = forms.ChoiceField(choices=ActivityKind.choices, widget=forms.HiddenInput)
    direction = forms.ChoiceField(label=_("Direction"), choices=ActivityDirection.choices, required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *CallOutcome.choices], required=False)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=0, max_value=24 * 60, required=False)
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False, widget=DateTimeLocalInput, help_text=_("Leave empty for now.")
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    starts_at = forms.DateTimeField(label=_("Starts"), required=False, widget=DateTimeLocalInput)
    ends_at = forms.DateTimeField(label=_("Ends"), required=False, widget=DateTimeLocalInput)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    attendees: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("Colleagues attending"), queryset=None, required=False, widget=UserSelectMultiple
    )
    body = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Markdown. Mention a colleague with @username to notify them."),
    )

    def __init__(self, *args: Any, user: Any, kind: str, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = kind if kind in KIND_FORM_FIELDS else ActivityKind.NOTE
        self.activity_kind = kind
        self.fields["kind"].initial = kind
        self.setup_records(user, editing)
        wanted = KIND_FORM_FIELDS[kind]
        for name in [n for n in list(self.fields) if n not in wanted and n not in CONTROL_FIELDS]:
            del self.fields[name]
        self.order_fields([*CONTROL_FIELDS, *wanted])
        if "attendees" in self.fields:
            self.fields["attendees"].queryset = assignable_users(user=user)  # type: ignore[attr-defined]
        self.fields["body"].label = BODY_LABELS[kind]
        self.fields["body"].required = kind == ActivityKind.NOTE
        if kind == ActivityKind.EMAIL:
            self.fields["subject"].required = True
        if kind == ActivityKind.MEETING:
            self.fields["starts_at"].required = True
            self.fields["subject"].required = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_record = cleaned.get("contact") or cleaned.get("company")
        if "contact" in self.fields and not has_record and not self.errors:
            raise forms.ValidationError(_("Choose the contact or the company this is about."))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The cleaned input in the services' terms."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in {"version", "panel", "duration_minutes"}}
        if "duration_minutes" in self.cleaned_data:
            minutes = self.cleaned_data["duration_minutes"]
            data["duration"] = None if minutes is None else minutes * 60
        if "attendees" in data:
            data["attendees"] = list(data["attendees"])
        if data.get("occurred_at") is None:
            data.pop("occurred_at", None)  # now, or the meeting's start
        return data

    @classmethod
    def initial_for(cls, activity: Any) -> dict[str, Any]:
        names = [n for n in KIND_FORM_FIELDS[activity.kind] if n not in {"attendees", "duration_minutes"}]
        initial = {name: getattr(activity, name) for name in names}
        initial["version"] = activity.version
        if activity.kind == ActivityKind.MEETING:
            initial["attendees"] = list(activity.attendees.all())
        if activity.duration is not None:
            initial["duration_minutes"] = activity.duration // 60
        return initial


class TaskForm(RecordFieldsMixin):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DateTimeLocalInput)
    priority = forms.ChoiceField(label=_("Priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL)
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Assigned to"),
        queryset=None,
        required=False,
        empty_label=_("Me"),
        widget=UserSelect(placeholder=_("Me — type to pick someone else")),
    )
    reminder_at = forms.DateTimeField(
        label=_("Remind me"),
        required=False,
        widget=DateTimeLocalInput,
        help_text=_("A reminder arrives in the notifications and by email."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=50_000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.setup_records(user, editing)
        self.fields["assignee"].queryset = assignable_users(user=user)  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in {"version", "panel"}}
        if data.get("assignee") is None:
            data["assignee"] = self.user
        return data

    @classmethod
    def initial_for(cls, task: Any) -> dict[str, Any]:
        names = ("title", "due_at", "priority", "assignee", "reminder_at", "notes")
        return {**{name: getattr(task, name) for name in names}, "version": task.version}
