from __future__ import annotations

import datetime as dt

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import journal
from .choices import ChangeSource, JournalAction
from .models import JournalEntry


def _journaled_types(request: object) -> QuerySet[ContentType]:
    ids = [ContentType.objects.get_for_model(m).pk for m in journal.registered_models()]
    return ContentType.objects.filter(pk__in=ids).order_by("model")


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the viewer's time zone, as an aware datetime (index-friendly bounds)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


class JournalEntryFilterSet(django_filters.FilterSet):
    """The audit log's filters, shared by the page, the API and the export.

    The user is typed (username or email), not picked from a list that grows with the company; dates
    become a range on the indexed timestamp in the viewer's time zone.
    """

    actor = django_filters.CharFilter(label=_("User"), method="filter_actor")
    content_type = django_filters.ModelChoiceFilter(label=_("Record type"), queryset=_journaled_types)
    object_id = django_filters.CharFilter(label=_("Record id"))
    action = django_filters.ChoiceFilter(label=_("Action"), choices=JournalAction.choices)
    source = django_filters.ChoiceFilter(label=_("Path"), choices=ChangeSource.choices)
    date_from = django_filters.DateFilter(label=_("From"), method="filter_date_from")
    date_to = django_filters.DateFilter(label=_("To"), method="filter_date_to")

    class Meta:
        model = JournalEntry
        fields = ["actor", "content_type", "object_id", "action", "source", "date_from", "date_to"]

    def filter_actor(self, queryset: QuerySet[JournalEntry], name: str, value: str) -> QuerySet[JournalEntry]:
        value = value.strip()
        if not value:
            return queryset
        users = get_user_model()._default_manager.filter(Q(username__iexact=value) | Q(email__iexact=value))
        if value.isdigit():
            users = get_user_model()._default_manager.filter(pk=int(value))
        return queryset.filter(actor_id__in=list(users.values_list("pk", flat=True)[:10]))

    def filter_date_from(self, queryset: QuerySet[JournalEntry], name: str, value: dt.date) -> QuerySet[JournalEntry]:
        return queryset.filter(timestamp__gte=_day_start(value))

    def filter_date_to(self, queryset: QuerySet[JournalEntry], name: str, value: dt.date) -> QuerySet[JournalEntry]:
        return queryset.filter(timestamp__lt=_day_start(value + dt.timedelta(days=1)))
