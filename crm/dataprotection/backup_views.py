"""The backups page (Settings -> Backups): every backup with its state and last verification, the
schedule, the recipients' public keys, and "Back up now" / "Verify now" (jobs with progress)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.core import access
from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin

from .backup import selectors, services
from .backup.choices import BackupKind, DestinationKind, FullFrequency

MODULE = selectors.MODULE
TEMPLATES = "dataprotection/"
WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]


def _interval_label(minutes: int) -> Any:
    if minutes == 0:
        return gettext_lazy("Never")
    if minutes < 60:
        return _("Every %(count)d minutes") % {"count": minutes}
    hours = minutes // 60
    return _("Every hour") if hours == 1 else _("Every %(count)d hours") % {"count": hours}


class BackupSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=gettext_lazy("Run backups on this schedule"),
        required=False,
        help_text=gettext_lazy("The worker starts whatever is due every five minutes."),
    )
    full_frequency = forms.ChoiceField(label=gettext_lazy("Full backup"), choices=FullFrequency.choices)
    full_time = forms.TimeField(
        label=gettext_lazy("At"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    full_weekday = forms.TypedChoiceField(label=gettext_lazy("On (weekly)"), choices=WEEKDAYS, coerce=int)
    incremental_minutes = forms.TypedChoiceField(label=gettext_lazy("Incremental backup"), coerce=int, choices=())
    keep_fulls = forms.IntegerField(label=gettext_lazy("Full backups kept"), min_value=1, max_value=365)
    keep_incremental_days = forms.IntegerField(
        label=gettext_lazy("Days of incremental backups kept"), min_value=1, max_value=365
    )
    destination = forms.ChoiceField(label=gettext_lazy("Destination"), choices=DestinationKind.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        interval = cast(forms.TypedChoiceField, self.fields["incremental_minutes"])
        interval.choices = [(m, _interval_label(m)) for m in services.INCREMENTAL_CHOICES]


class RecipientForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Whose key"), max_length=100)
    public_key = forms.CharField(
        label=gettext_lazy("Public key"),
        max_length=100,
        help_text=gettext_lazy("An age public key (age1…). Make one with: manage.py backup_keygen --out key.txt"),
    )


def _settings_form(data: Any = None) -> BackupSettingsForm:
    row = selectors.backup_settings_get()
    initial = {name: getattr(row, name) for name in services.SETTINGS_FIELDS}
    return BackupSettingsForm(data, initial=initial)


class BackupListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request)

    def render(
        self,
        request: HttpRequest,
        *,
        settings_form: BackupSettingsForm | None = None,
        recipient_form: RecipientForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        user = request.user
        recipients = list(selectors.recipient_list(user=user))
        context = {
            "page": paginate(request, selectors.backup_list(user=user)),
            "settings_form": settings_form or _settings_form(),
            "recipient_form": recipient_form or RecipientForm(),
            "recipients": recipients,
            "destination": selectors.destination_status(),
            "jobs": selectors.active_jobs(user=user),
            "can_edit": access.can(user, MODULE, "edit"),
            "can_start": access.can(user, MODULE, "create"),
            "kinds": BackupKind,
        }
        return render(request, TEMPLATES + "backup_list.html", context, status=status)


def _errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class BackupSettingsView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = _settings_form(request.POST)
        if form.is_valid():
            try:
                services.backup_settings_update(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Backup schedule saved."))
                return HttpResponseRedirect(reverse("dataprotection:backup_list"))
        return BackupListView().render(request, settings_form=form, status=400)


class RecipientAddView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RecipientForm(request.POST)
        if form.is_valid():
            try:
                services.backup_recipient_add(
                    actor=request.user, name=form.cleaned_data["name"], public_key=form.cleaned_data["public_key"]
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Recipient added: new backups are encrypted to this key too."))
                return HttpResponseRedirect(reverse("dataprotection:backup_list"))
        return BackupListView().render(request, recipient_form=form, status=400)


def _act(request: HttpRequest, action: Callable[[], Any], success: str) -> HttpResponse:
    """Run one of the page's buttons: its refusal or its success as a message, then back to the page."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(reverse("dataprotection:backup_list"))


class RecipientRemoveView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        recipient = selectors.recipient_list(user=request.user).filter(pk=pk).first()
        if recipient is None:
            raise Http404
        return _act(
            request,
            lambda: services.backup_recipient_remove(actor=request.user, recipient=recipient),
            _("Recipient removed: new backups are no longer encrypted to this key."),
        )


class BackupStartView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "create"

    def post(self, request: HttpRequest) -> HttpResponse:
        kind = request.POST.get("kind", BackupKind.FULL)
        return _act(
            request,
            lambda: services.backup_start(actor=request.user, kind=kind),
            _("Backup started. Its progress is shown below."),
        )


class BackupVerifyView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "create"

    def post(self, request: HttpRequest) -> HttpResponse:
        return _act(
            request,
            lambda: services.backup_verify_start(actor=request.user),
            _("Verification started. Its progress is shown below."),
        )
