"""Form widgets for long choice lists (people, companies).

``FastSelect`` builds ``<option>`` tags in one pass in Python instead of one template render per
option, which costs hundreds of milliseconds at a thousand. ``AutocompleteSelect`` (and the people
pickers ``UserSelect`` / ``UserSelectMultiple``) go further: they render only the chosen option(s)
and let the person search the rest as they type, from an endpoint that answers a few suggestions."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

SELECTED = mark_safe(" selected")


def option_tags(choices: Iterable[tuple[Any, Any]], selected: set[str]) -> SafeString:
    pairs = tuple(choices)
    if len(pairs) > 50 and all(type(value) is str and type(label) is str for value, label in pairs):
        # Long lists of plain texts (every country, by name in the reader's language) are the same on
        # every page: escaped once, then remembered.
        return _remembered_option_tags(pairs, frozenset(selected))
    return _option_tags(pairs, selected)


def _option_tags(pairs: Iterable[tuple[Any, Any]], selected: set[str] | frozenset[str]) -> SafeString:
    rows = ((value, SELECTED if str(value) in selected else "", label) for value, label in pairs)
    return format_html_join("", '<option value="{}"{}>{}</option>', rows)


@lru_cache(maxsize=64)
def _remembered_option_tags(pairs: tuple[tuple[str, str], ...], selected: frozenset[str]) -> SafeString:
    return _option_tags(pairs, selected)


class FastSelect(forms.Select):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        if self.allow_multiple_selected:
            final["multiple"] = True
        values = value if isinstance(value, (list, tuple)) else [value]
        selected = {str(v) for v in values if v is not None}
        return format_html("<select{}>{}</select>", flatatt(final), option_tags(self.choices, selected))


class FastSelectMultiple(FastSelect):
    allow_multiple_selected = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getter = getattr(data, "getlist", None)
        return getter(name) if getter is not None else data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


# Django's and django-filter's placeholder for "no choice": not worth showing to a person.
_DASHES = "---------"


class AutocompleteSelect(FastSelect):
    """A text box that suggests choices as one types; the chosen id travels in a hidden input.

    Only the chosen option is rendered, with its label read in one small query (none when nothing
    is chosen): the field's queryset is never read whole. The field itself stays a ``ModelChoiceField``
    with its queryset, so any id in that queryset is accepted when the form is sent and any other is
    refused. Suggestions come from ``url_name``'s endpoint (``?q=``), which answers a fragment of
    ``<button data-autocomplete-pick data-id=… data-name=…>`` options (see ``core/widgets/_autocomplete.html``
    and the picker in ``crm/static/crm/app.js``).
    """

    template_name = "core/widgets/autocomplete.html"
    url_name = ""
    icon = "ti-search"
    default_placeholder: Any = _("Type to search…")

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        *,
        placeholder: Any = None,
        url_name: str | None = None,
    ) -> None:
        super().__init__(attrs, choices)
        self.placeholder = placeholder
        if url_name is not None:
            self.url_name = url_name

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        return forms.Widget.render(self, name, value, attrs, renderer)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # Widget.get_context, not ChoiceWidget's: that one builds an option per choice.
        context = forms.Widget.get_context(self, name, value, attrs)
        widget = context["widget"]
        selected = self.selected_choices([v for v in widget["value"] if v not in ("", None)])
        extra = {
            k: v for k, v in widget["attrs"].items() if k not in {"id", "class", "placeholder", "size", "disabled"}
        }
        widget.update(
            selected=selected,
            multiple=self.allow_multiple_selected,
            url=reverse(self.url_name) if self.url_name else "",
            icon=self.icon,
            placeholder=widget["attrs"].get("placeholder") or self.placeholder_text(),
            clearable=not self.is_required and not self.allow_multiple_selected,
            extra_attrs=extra,
        )
        return context

    def placeholder_text(self) -> Any:
        if self.placeholder:
            return self.placeholder
        field = getattr(self.choices, "field", None)
        empty_label = getattr(field, "empty_label", None)
        if empty_label and str(empty_label) != _DASHES:
            return empty_label
        return self.default_placeholder

    def selected_choices(self, values: list[str]) -> list[tuple[str, str]]:
        """``(value, label)`` of the chosen values that are valid choices, in the order given."""
        if not values:
            return []
        queryset = getattr(self.choices, "queryset", None)
        field = getattr(self.choices, "field", None)
        if queryset is None or field is None:
            labels = {str(key): str(label) for key, label in self.choices}  # a short, fixed list
            return [(v, labels[v]) for v in values if v in labels]
        key = getattr(field, "to_field_name", None) or "pk"
        model_field = queryset.model._meta.pk if key == "pk" else queryset.model._meta.get_field(key)
        wanted = []
        for value in values:
            try:
                wanted.append(model_field.to_python(value))
            except (ValidationError, TypeError, ValueError):
                continue  # not an id: nothing to show (the field says why when the form is checked)
        if not wanted:
            return []
        found = {
            str(field.prepare_value(obj)): field.label_from_instance(obj)
            for obj in queryset.filter(**{f"{key}__in": wanted})
        }
        return [(v, found[v]) for v in dict.fromkeys(values) if v in found]

    def use_required_attribute(self, initial: Any) -> bool:
        # The hidden input cannot be "required"; and Select's check would read the whole queryset.
        return False

    def id_for_label(self, id_: str, index: str = "0") -> str:
        return f"{id_}_search" if id_ else id_


class AutocompleteSelectMultiple(AutocompleteSelect):
    """Several choices as removable chips, each with its hidden input, and a text box to add more."""

    allow_multiple_selected = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getter = getattr(data, "getlist", None)
        return getter(name) if getter is not None else data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # no chip left means "nobody", not "unchanged"


class UserSelect(AutocompleteSelect):
    """Picks one person. Every form or filter that picks a user uses this widget."""

    url_name = "accounts:user_autocomplete"
    icon = "ti-user"
    default_placeholder = _("Type a name or email…")


class UserSelectMultiple(AutocompleteSelectMultiple):
    """Picks several people. Every form or filter that picks users uses this widget."""

    url_name = "accounts:user_autocomplete"
    icon = "ti-users"
    default_placeholder = _("Type a name or email to add…")
