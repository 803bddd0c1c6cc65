"""One filter definition per model, shared by the activity list page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User

from ..choices import ActivityKind, TaskPriority, TaskStatus
from ..models import Activity, Contact, Task


def _users(request: object) -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


class RecordFilterMixin(django_filters.FilterSet):
    contact = django_filters.NumberFilter(label=_("Contact"), field_name="contact_id")
    company = django_filters.NumberFilter(label=_("Company"), method="filter_company")

    def filter_company(self, queryset: QuerySet, name: str, value: int) -> QuerySet:  # type: ignore[type-arg]
        """A company's own records and those of its contacts."""
        if value is None:
            return queryset
        return queryset.filter(
            Q(company_id=value) | Q(contact_id__in=Contact.objects.filter(company_id=value).values("pk"))
        )


class ActivityFilterSet(RecordFilterMixin):
    kind = django_filters.MultipleChoiceFilter(label=_("Type"), choices=ActivityKind.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Logged by"), queryset=_users)
    occurred_after = django_filters.IsoDateTimeFilter(label=_("From"), field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(label=_("Until"), field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ["kind", "contact", "company", "owner", "occurred_after", "occurred_before"]


class TaskFilterSet(RecordFilterMixin):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TaskStatus.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=TaskPriority.choices)
    assignee = django_filters.ModelChoiceFilter(label=_("Assigned to"), queryset=_users)
    due_after = django_filters.IsoDateTimeFilter(label=_("Due from"), field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(label=_("Due before"), field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["status", "priority", "assignee", "contact", "company", "due_after", "due_before"]
