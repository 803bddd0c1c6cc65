"""Custom fields in the filter definitions (``crm/customers/filtersets.py``) and in list sorting.

Each active field adds filters to the company or contact FilterSet, so the list page, the API and
the export filter the same way:

==================================  ==============================================================
kind                                filters
==================================  ==============================================================
text, long text, URL, email, phone  ``cf_<key>``: contains the text (any case)
number, money, date                 ``cf_<key>__min`` / ``cf_<key>__max``: at least / at most
yes/no                              ``cf_<key>``: ``true`` or ``false``
one choice                          ``cf_<key>``: is this choice
several choices                     ``cf_<key>``: includes this choice
==================================  ==============================================================

A field marked sensitive has its values stored encrypted, which SQL cannot compare: its filter names
are kept, but a value sent for one is refused with a clear error (a 400 from the API, a refused
export), and the list page does not offer them.

Keys hold no double underscore, so ``cf_<key>__min`` never names another field's filter.
Values are read with JSON key transforms that mean the same on SQLite and PostgreSQL: numbers as
numbers, everything else as its text.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Expression, FloatField, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, GreaterThanOrEqual, IContains, LessThanOrEqual
from django.utils.translation import gettext as _

from ..choices import CustomFieldKind
from .values import NO, RANGE_KINDS, YES, json_text

K = CustomFieldKind
TEXT_KINDS = (K.TEXT, K.LONG_TEXT, K.URL, K.EMAIL, K.PHONE)
PREFIX = "cf_"


def param(definition: Any, suffix: str = "") -> str:
    """The filter's (or column's, or sort's) name: ``cf_budget``, ``cf_budget__min``."""
    return f"{PREFIX}{definition.key}{suffix}"


def value_expression(definition: Any) -> Expression:
    """The field's value in SQL: a float for numbers and amounts, text for the rest, NULL when the
    record has none."""
    # Cast, also to text: the lookups of a bare key transform would read the compared value as JSON.
    text = KT(f"custom__{definition.key}")
    if definition.kind in (K.NUMBER, K.MONEY):
        return Cast(text, FloatField())
    return Cast(text, TextField())


def _vendor() -> str:
    from django.db import router

    from ..models import Contact

    return str(connections[router.db_for_read(Contact)].vendor)


def exact_condition(definition: Any, value: Any) -> Q:
    """Records whose value is ``value`` (a choice, ``True`` / ``False``), or, for several choices,
    includes it.

    PostgreSQL asks ``custom @> '{"key": value}'`` (``{"key": [value]}`` for several choices), which
    the GIN index on ``custom`` serves. Elsewhere the value's text is compared; for several choices the
    list's JSON text must hold the choice as a quoted JSON string (quotes inside a value are escaped,
    so it cannot match part of another choice).
    """
    vendor = _vendor()
    several = definition.kind == K.MULTI_CHOICE
    if vendor == "postgresql":
        return Q(custom__contains={definition.key: [value] if several else value})
    text = KT(f"custom__{definition.key}")
    if several:
        return Q(IContains(text, json_text(value, vendor=vendor)))
    if isinstance(value, bool):
        value = "true" if value else "false"
    return Q(Exact(text, value))


def choice_condition(definition: Any, choice: str) -> Q:
    """Records whose value is ``choice`` (one choice) or includes it (several choices)."""
    return exact_condition(definition, choice)


class _CustomFilter(django_filters.Filter):
    definition: Any = None

    def __init__(self, *args: Any, definition: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition


class CustomTextFilter(_CustomFilter, django_filters.CharFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        value = (value or "").strip()
        if not value:
            return qs
        return qs.filter(IContains(KT(f"custom__{self.definition.key}"), value))


class CustomNumberRangeFilter(_CustomFilter, django_filters.NumberFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        lookup = GreaterThanOrEqual if self.lookup_expr == "gte" else LessThanOrEqual
        return qs.filter(lookup(value_expression(self.definition), float(value)))


class CustomDateRangeFilter(_CustomFilter, django_filters.DateFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        lookup = GreaterThanOrEqual if self.lookup_expr == "gte" else LessThanOrEqual
        return qs.filter(lookup(KT(f"custom__{self.definition.key}"), value.isoformat()))


class CustomBooleanFilter(_CustomFilter, django_filters.ChoiceFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value not in ("true", "false"):
            return qs
        return qs.filter(exact_condition(self.definition, value == "true"))


class CustomChoiceFilter(_CustomFilter, django_filters.ChoiceFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        return qs.filter(choice_condition(self.definition, value))


class RefusedValueField(forms.CharField):
    """The input of a filter that cannot be: any value sent is an error saying why."""

    def __init__(self, *args: Any, message: str = "", **kwargs: Any) -> None:
        self.message = message
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value not in (None, ""):
            raise ValidationError(self.message, code="sensitive")
        return value


class CustomSensitiveFilter(_CustomFilter, django_filters.CharFilter):
    """Stands for a filter of a sensitive field: refuses any value (see the module's text)."""

    field_class = RefusedValueField
    refused = True

    def __init__(self, *args: Any, definition: Any, **kwargs: Any) -> None:
        message = _("“%(field)s” is a sensitive field: its values are stored encrypted and cannot be filtered on.") % {
            "field": definition.label
        }
        super().__init__(*args, definition=definition, message=message, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return qs


def is_refused(filter_: Any) -> bool:
    """Is this the stand-in of a filter of a sensitive field?"""
    return bool(getattr(filter_, "refused", False))


def filters_for(definition: Any) -> dict[str, django_filters.Filter]:
    """The filters a field adds to its record type's FilterSet, by name."""
    label = definition.label
    kind = definition.kind
    if definition.sensitive:
        names = [param(definition, "__min"), param(definition, "__max")] if kind in RANGE_KINDS else [param(definition)]
        return {name: CustomSensitiveFilter(label=label, definition=definition) for name in names}
    if kind in TEXT_KINDS:
        return {param(definition): CustomTextFilter(label=label, definition=definition)}
    if kind in RANGE_KINDS:
        if kind == K.DATE:
            widget: Any = forms.DateInput(attrs={"type": "date"})
            filter_class: Any = CustomDateRangeFilter
        else:
            widget = forms.NumberInput(attrs={"step": "any"})
            filter_class = CustomNumberRangeFilter
        return {
            param(definition, "__min"): filter_class(
                label=_("%(field)s from") % {"field": label}, lookup_expr="gte", definition=definition, widget=widget
            ),
            param(definition, "__max"): filter_class(
                label=_("%(field)s to") % {"field": label}, lookup_expr="lte", definition=definition, widget=widget
            ),
        }
    if kind == K.BOOLEAN:
        return {
            param(definition): CustomBooleanFilter(
                label=label, choices=[("true", YES), ("false", NO)], definition=definition
            )
        }
    if kind in (K.CHOICE, K.MULTI_CHOICE):
        choices = [(choice, choice) for choice in definition.choices or []]
        return {param(definition): CustomChoiceFilter(label=label, choices=choices, definition=definition)}
    return {}


def add_custom_filters(filterset: Any, definitions: list[Any]) -> None:
    """Add the filters of ``definitions`` to a FilterSet instance (after its ``__init__``)."""
    model = filterset.queryset.model
    for definition in definitions:
        for name, filter_ in filters_for(definition).items():
            filter_.model = model
            filter_.parent = filterset
            filterset.filters[name] = filter_
