from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()

_WIDGET_CLASSES = {"select": "form-select", "selectmultiple": "form-select", "checkbox": "form-check-input"}


@register.filter
def styled(field: BoundField) -> SafeString:
    """Render a form field's widget with the UI's classes (and the invalid state)."""
    css = _WIDGET_CLASSES.get(field.widget_type, "form-control")
    if field.errors:
        css += " is-invalid"
    existing = field.field.widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.simple_tag(takes_context=True)
def querystring_without(context: Any, *names: str) -> str:
    """The current query string without the named parameters (e.g. without ``page``)."""
    request = context["request"]
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@register.simple_tag
def options(choices: Any, selected: Any = None) -> SafeString:
    """``<option>`` tags for ``(value, label)`` pairs, built in one pass in Python.

    Lists of people can hold a thousand entries; a template loop with a comparison per entry costs
    hundreds of milliseconds, this a few.
    """
    from ..widgets import option_tags

    return option_tags(choices, {"" if selected is None else str(selected)})


@register.filter
def sensitive(value: Any, record: Any) -> Any:
    """``{{ contact.phone|sensitive:contact }}``: a sensitive value, or the mask for a viewer who may
    not see it (the read is noted for the audit log)."""
    from crm.core.crypto import masking

    return masking.shown(record, value)


@register.filter
def masked(value: Any) -> bool:
    from crm.core.crypto import masking

    return masking.is_masked(value)
