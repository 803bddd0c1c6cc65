from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .importing import DUPLICATE_POLICIES
from .mapping import guess_mapping, mapping_problems, target_choices
from .reading import max_bytes


def duplicate_choices() -> list[tuple[str, Any]]:
    labels = {
        "skip": _("Skip it and keep the existing contact as it is"),
        "update": _("Update the existing contact with the new values (empty cells change nothing)"),
        "create": _("Create a new contact anyway"),
    }
    return [(key, labels[key]) for key in DUPLICATE_POLICIES]


class UploadField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> Any:
        uploaded = super().clean(data, initial)
        if uploaded is not None and uploaded.size > max_bytes():
            raise forms.ValidationError(
                _("The file is larger than %(size)s; split it into smaller files.")
                % {"size": filesizeformat(max_bytes())}
            )
        return uploaded


class ImportUploadForm(forms.Form):
    file = UploadField(
        label=_("Spreadsheet file"),
        help_text=_("CSV (UTF-8 or GBK) or Excel XLSX; the first sheet is read."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv"}),
    )
    has_header = forms.BooleanField(label=_("The first row holds the column names"), required=False, initial=True)


class VCardUploadForm(forms.Form):
    file = UploadField(
        label=_("vCard file"),
        help_text=_("A .vcf file with one or many cards (vCard 3.0 or 4.0)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".vcf,.vcard,text/vcard"}),
    )
    duplicates = forms.ChoiceField(
        label=_("When a card matches an existing contact"),
        choices=duplicate_choices,
        initial="skip",
        widget=forms.RadioSelect,
    )


class MappingForm(forms.Form):
    """One choice per column (guessed from its header), and what to do with duplicates."""

    duplicates = forms.ChoiceField(
        label=_("When a row matches an existing contact"),
        choices=duplicate_choices,
        initial="skip",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header = header
        guessed = guess_mapping(header)
        for index, title in enumerate(header):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=title, choices=target_choices, required=False, initial=guessed[index]
            )

    def column_fields(self) -> list[Any]:
        return [self[f"col_{index}"] for index in range(len(self.header))]

    def mapping(self) -> list[str]:
        """The chosen target of each column (valid or not; for the preview)."""
        if self.is_bound:
            valid = {key for key, _label in target_choices()}
            chosen = [self.data.get(f"col_{index}", "") for index in range(len(self.header))]
            return [key if key in valid else "" for key in chosen]
        return guess_mapping(self.header)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for problem in mapping_problems([cleaned.get(f"col_{i}", "") for i in range(len(self.header))]):
            self.add_error(None, problem)
        return cleaned


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")],
        initial="csv",
        widget=forms.RadioSelect,
    )
