"""One filter definition per model, shared by list pages, the API and exports.

Each FilterSet also gets the filters of the active custom fields of its record type when it is
built (``cf_<key>``, ``cf_<key>__min`` ...; see ``crm.customers.custom_fields.filters``).
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team
from crm.core.widgets import UserSelect

from .choices import CompanySize, ContactSource, LifecycleStage
from .custom_fields import selectors as custom_field_selectors
from .custom_fields.filters import add_custom_filters
from .models import Company, Contact, Tag


def _users(request: object) -> QuerySet:  # type: ignore[type-arg]
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _owner_filter() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=_users,
        empty_label=_("Any owner"),
        widget=UserSelect(attrs={"class": "form-select crm-filter", "aria-label": _("Owner")}),
    )


class CustomFieldsFilterSetMixin:
    """Adds the filters of the record type's active custom fields to each instance."""

    custom_entity = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        add_custom_filters(self, custom_field_selectors.active_definitions(self.custom_entity))


class CompanyFilterSet(CustomFieldsFilterSetMixin, django_filters.FilterSet):
    custom_entity = "company"
    q = django_filters.CharFilter(label=_("Name or domain"), method="filter_q")
    industry = django_filters.CharFilter(label=_("Industry"), lookup_expr="iexact")
    size = django_filters.ChoiceFilter(label=_("Size"), choices=CompanySize.choices)
    country = django_filters.CharFilter(label=_("Country"), lookup_expr="iexact")
    owner = _owner_filter()
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    tag = django_filters.ModelChoiceFilter(label=_("Tag"), field_name="tags", queryset=Tag.objects.all())
    parent = django_filters.NumberFilter(label=_("Parent company"), field_name="parent_id")

    class Meta:
        model = Company
        fields = ["q", "industry", "size", "country", "owner", "team", "tag", "parent"]

    def filter_q(self, queryset: QuerySet[Company], name: str, value: str) -> QuerySet[Company]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain=value.lower()))


class ContactFilterSet(CustomFieldsFilterSetMixin, django_filters.FilterSet):
    custom_entity = "contact"
    q = django_filters.CharFilter(label=_("Name or email"), method="filter_q")
    lifecycle_stage = django_filters.ChoiceFilter(label=_("Lifecycle stage"), choices=LifecycleStage.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=ContactSource.choices)
    company = django_filters.NumberFilter(label=_("Company"), field_name="company_id")
    country = django_filters.CharFilter(label=_("Country"), lookup_expr="iexact")
    owner = _owner_filter()
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    tag = django_filters.ModelChoiceFilter(label=_("Tag"), field_name="tags", queryset=Tag.objects.all())

    class Meta:
        model = Contact
        fields = ["q", "lifecycle_stage", "source", "company", "country", "owner", "team", "tag"]

    def filter_q(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        value = value.strip()
        if not value:
            return queryset
        if "@" in value:  # an address, or its start
            return queryset.filter(email__startswith=value.lower())
        return queryset.filter(Q(name__icontains=value) | Q(email__startswith=value.lower()))
