"""The one filter definition of leads, shared by the list page, the API and exports."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team
from crm.core.widgets import UserSelect

from ..choices import LeadSource, LeadStatus
from ..models import Lead


def _users(request: object) -> QuerySet:  # type: ignore[type-arg]
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the viewer's time zone (an index-friendly bound on ``created_at``)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


class LeadFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, email or company"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=LeadStatus.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=LeadSource.choices)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=_users,
        empty_label=_("Any owner"),
        widget=UserSelect(attrs={"class": "form-select crm-filter", "aria-label": _("Owner")}),
    )
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.order_by("name"))
    score_min = django_filters.NumberFilter(label=_("Score at least"), field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(label=_("Score at most"), field_name="score", lookup_expr="lte")
    created_from = django_filters.DateFilter(label=_("Created from"), method="filter_created_from")
    created_to = django_filters.DateFilter(label=_("Created until"), method="filter_created_to")

    class Meta:
        model = Lead
        fields = ["q", "status", "source", "owner", "team", "score_min", "score_max", "created_from", "created_to"]

    def filter_q(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        value = value.strip()[:200]
        if not value:
            return queryset
        if "@" in value and " " not in value:
            return queryset.filter(email=value.lower())
        condition = Q()
        for word in value.split()[:5]:
            condition &= Q(name__icontains=word) | Q(company_name__icontains=word)
        return queryset.filter(condition)

    def filter_created_from(self, queryset: QuerySet[Lead], name: str, value: dt.date) -> QuerySet[Lead]:
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_created_to(self, queryset: QuerySet[Lead], name: str, value: dt.date) -> QuerySet[Lead]:
        return queryset.filter(created_at__lt=_day_start(value + dt.timedelta(days=1)))
