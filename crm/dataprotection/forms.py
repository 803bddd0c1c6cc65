from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import RequestKind, RequestStatus


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *RequestStatus.choices]
    )
    kind = forms.ChoiceField(label=_("Request"), required=False, choices=[("", _("Any request")), *RequestKind.choices])


class RequestCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("The person asks to"), choices=RequestKind.choices, widget=forms.RadioSelect)
    subject = forms.CharField(label=_("Person"), widget=forms.HiddenInput, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RequestCloseForm(forms.Form):
    notes = forms.CharField(label=_("What was corrected"), widget=forms.Textarea(attrs={"rows": 3}))
