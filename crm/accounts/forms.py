from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from crm.core.choices import DataScope
from crm.core.registry import platform

from .models import Role, Team, User


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text"}),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    pass


class SetPasswordForm(auth_forms.SetPasswordForm):
    pass


class PasswordResetForm(auth_forms.PasswordResetForm):
    def get_users(self, email: str) -> Any:
        return User.objects.filter(email__iexact=email.strip(), is_active=True).exclude(password__startswith="!")  # noqa: S106  (unusable password marker)


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. 'Accounting sync'.")
    )
    read_only = forms.BooleanField(
        label=_("Read-only"),
        required=False,
        initial=True,
        help_text=_("A read-only token can read but never change data."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for a token that does not expire."),
    )


class VersionedModelForm(forms.ModelForm):
    """A model form that carries the version the editor loaded, for the service's conflict check."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An edit must say which version it started from, or the conflict check could be skipped.
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version

    def changed_data_dict(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}  # type: ignore[union-attr]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all())
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )


class UserForm(VersionedModelForm):
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "role", "is_away", "language", "time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["time_zone"] = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)
        if self.instance.pk:
            self.fields["teams"].initial = list(self.instance.teams.values_list("pk", flat=True))

    def changed_data_dict(self) -> dict[str, Any]:
        data = super().changed_data_dict()
        data["teams"] = list(self.cleaned_data["teams"])
        return data


class TeamForm(VersionedModelForm):
    class Meta:
        model = Team
        fields = ["name", "description", "manager", "members"]
        widgets = {"members": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = User.objects.filter(is_active=True).order_by("username")
        self.fields["manager"].queryset = active
        self.fields["members"].queryset = active


class RoleForm(VersionedModelForm):
    """Role fields plus one checkbox per (module, action)."""

    class Meta:
        model = Role
        fields = ["name", "description", "data_scope", "require_two_factor"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["data_scope"].choices = DataScope.choices
        current = self.instance.permissions if self.instance.pk else {}
        self.permission_rows = []
        for module in platform.sorted_modules():
            cells = []
            for action in module.actions:
                name = f"perm__{module.key}__{action}"
                self.fields[name] = forms.BooleanField(required=False, initial=action in current.get(module.key, []))
                cells.append((action, name))
            self.permission_rows.append((module, cells))

    def permission_grid(self) -> list[tuple[Any, list[tuple[str, Any]]]]:
        return [(module, [(action, self[name]) for action, name in cells]) for module, cells in self.permission_rows]

    def cleaned_permissions(self) -> dict[str, list[str]]:
        return {
            module.key: [action for action, name in cells if self.cleaned_data.get(name)]
            for module, cells in self.permission_rows
        }

    def changed_data_dict(self) -> dict[str, Any]:
        data = super().changed_data_dict()
        data["permissions"] = self.cleaned_permissions()
        return data
