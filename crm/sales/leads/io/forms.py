"""The mapping form of a lead import (the upload form is the contact import's: a file and "has a header")."""

from __future__ import annotations

from typing import Any

from django import forms

from .mapping import guess_mapping, mapping_problems, target_choices


class LeadMappingForm(forms.Form):
    """One choice per column, guessed from its header."""

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
        if not self.is_bound:
            return guess_mapping(self.header)
        valid = {key for key, _label in target_choices()}
        chosen = [self.data.get(f"col_{index}", "") for index in range(len(self.header))]
        return [key if key in valid else "" for key in chosen]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for problem in mapping_problems([cleaned.get(f"col_{i}", "") for i in range(len(self.header))]):
            self.add_error(None, problem)
        return cleaned
