"""The one filter definition of deals, shared by the list, the board, the API and reports."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team
from crm.core.widgets import UserSelect

from ..choices import DealStatus
from ..models import Deal, Pipeline, Stage


def _users(request: object) -> QuerySet:  # type: ignore[type-arg]
    return get_user_model().objects.filter(is_active=True).order_by("username")


class DealFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Name"),
        field_name="name",
        lookup_expr="icontains",
        widget=django_filters.widgets.forms.TextInput(attrs={"placeholder": _("Search deals…"), "maxlength": 100}),
    )
    pipeline = django_filters.ModelChoiceFilter(label=_("Pipeline"), queryset=Pipeline.objects.all())
    stage = django_filters.ModelChoiceFilter(label=_("Stage"), queryset=Stage.objects.all())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DealStatus.choices, empty_label=_("Any status"))
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=_users,
        empty_label=_("Any owner"),
        widget=UserSelect(attrs={"class": "form-select crm-filter", "aria-label": _("Owner")}),
    )
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all(), empty_label=_("Any team"))
    company = django_filters.NumberFilter(label=_("Company"), field_name="company_id")
    close_from = django_filters.DateFilter(label=_("Closing from"), field_name="expected_close_date", lookup_expr="gte")
    close_to = django_filters.DateFilter(label=_("Closing until"), field_name="expected_close_date", lookup_expr="lte")
    amount_min = django_filters.NumberFilter(label=_("Amount at least"), field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(label=_("Amount at most"), field_name="amount", lookup_expr="lte")

    class Meta:
        model = Deal
        fields = [
            "q",
            "pipeline",
            "stage",
            "status",
            "owner",
            "team",
            "company",
            "close_from",
            "close_to",
            "amount_min",
            "amount_max",
        ]
