"""The form of a saved view: its name and whom it is shared with. The services check both again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors
from .services import NAME_MAX_LENGTH


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH)
    team = forms.TypedChoiceField(
        label=_("Share with"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Members of the team see the view in their list; only you can change or delete it."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "saved-view-%s")  # the list's filter bar has its own "team"
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "maxlength": NAME_MAX_LENGTH})
        team: Any = self.fields["team"]
        team.choices = [("", _("Nobody (only me)")), *selectors.share_team_choices(user=user)]


class SavedViewCreateForm(SavedViewForm):
    """Saving the current view of a list: which list, and its query string (filters and sort)."""

    list_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=8000)
