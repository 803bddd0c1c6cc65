from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from . import journal
from .choices import ChangeSource, JournalAction
from .models import JournalEntry


def _journaled_types(request: object) -> object:
    models = journal.registered_models()
    ids = [ContentType.objects.get_for_model(m).pk for m in models]
    return ContentType.objects.filter(pk__in=ids).order_by("model")


class JournalEntryFilterSet(django_filters.FilterSet):
    """The audit log's filters, shared by the page, the API and the export."""

    actor = django_filters.ModelChoiceFilter(label=_("User"), queryset=get_user_model().objects.all())
    content_type = django_filters.ModelChoiceFilter(label=_("Record type"), queryset=_journaled_types)
    object_id = django_filters.CharFilter(label=_("Record id"))
    action = django_filters.ChoiceFilter(label=_("Action"), choices=JournalAction.choices)
    source = django_filters.ChoiceFilter(label=_("Path"), choices=ChangeSource.choices)
    date_from = django_filters.DateFilter(label=_("From"), field_name="timestamp", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(label=_("To"), field_name="timestamp", lookup_expr="date__lte")

    class Meta:
        model = JournalEntry
        fields = ["actor", "content_type", "object_id", "action", "source", "date_from", "date_to"]
