"""The merge screen's form: which record to keep, and for each part whose values differ, whose value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..custom_fields import selectors as custom_field_selectors
from .fields import CUSTOM_PREFIX, custom_keys, default_choices, has_custom, is_empty, parts_of, raw_value


def choice_name(key: str) -> str:
    return f"choice-{key}"


def version_name(pk: int) -> str:
    return f"version-{pk}"


class MergeForm(forms.Form):
    """Built for the records on the screen: ``survivor``, ``choice-<part>`` (a record id) for every part
    and custom field whose values differ, and ``version-<id>`` (the version shown) for each record."""

    survivor = forms.TypedChoiceField(label=_("Record to keep"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, records: Sequence[Any], survivor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records = list(records)
        ids = [(record.pk, str(record)) for record in self.records]
        survivor_field: Any = self.fields["survivor"]
        survivor_field.choices = ids
        self.fields["survivor"].initial = survivor.pk
        defaults = default_choices(self.records, survivor)
        model = type(survivor)
        for part in parts_of(model):
            values = {raw_value(record, part) for record in self.records}
            if len(values) > 1:
                self._choice(part.key, part.label, defaults[part.key], ids)
        keys = custom_keys(self.records)
        labels = custom_field_selectors.labels_by_key(custom_field_selectors.entity_of(model), keys)
        for key in keys:
            offered = [record for record in self.records if has_custom(record, key)]
            if len({repr(record.custom[key]) for record in offered}) > 1 or 0 < len(offered) < len(self.records):
                choices = [(record.pk, str(record)) for record in offered]
                self._choice(CUSTOM_PREFIX + key, labels[key], defaults[CUSTOM_PREFIX + key], choices)
        for record in self.records:
            self.fields[version_name(record.pk)] = forms.IntegerField(
                widget=forms.HiddenInput, initial=record.version, min_value=1
            )

    def _choice(self, key: str, label: Any, initial: int, choices: list[tuple[int, str]]) -> None:
        self.fields[choice_name(key)] = forms.TypedChoiceField(
            label=label,
            choices=choices,
            coerce=int,
            initial=initial,
            widget=forms.RadioSelect,
            required=False,
            empty_value=None,
        )

    def choices(self) -> dict[str, int]:
        prefix = choice_name("")
        return {
            name.removeprefix(prefix): value
            for name, value in self.cleaned_data.items()
            if name.startswith(prefix) and value is not None
        }

    def versions(self) -> dict[int, int]:
        return {record.pk: self.cleaned_data[version_name(record.pk)] for record in self.records}


def differs(records: Sequence[Any], part: Any) -> bool:
    return len({raw_value(record, part) for record in records}) > 1


def all_empty(records: Sequence[Any], part: Any) -> bool:
    return all(is_empty(raw_value(record, part)) for record in records)
