from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from crm.core.api.viewsets import ScopedModelViewSet

from .. import services
from ..filtersets import CompanyFilterSet, ContactFilterSet
from ..models import Company, Contact
from .serializers import CompanySerializer, ContactSerializer

CUSTOM_FILTERS_HELP = (
    "Besides the filters listed, each active custom field of the record type filters the list: "
    "`cf_<key>` (text, long text, URL, email, phone: contains; yes/no: `true` or `false`; one choice: is; "
    "several choices: includes) and `cf_<key>__min` / `cf_<key>__max` (number, money, date: at least / at most)."
)


@extend_schema_view(list=extend_schema(description=f"The companies the caller may see. {CUSTOM_FILTERS_HELP}"))
class CompanyViewSet(ScopedModelViewSet):
    module = "customers"
    queryset = Company.objects.select_related("owner", "team").prefetch_related("tags")
    serializer_class = CompanySerializer
    filterset_class = CompanyFilterSet
    ordering_fields = ["id", "name", "updated_at"]
    ordering = ["name", "id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Company:
        return services.company_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Company, data: dict[str, Any], version: int) -> Company:
        return services.company_update(actor=actor, company=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Company) -> None:
        services.company_delete(actor=actor, company=instance)


@extend_schema_view(list=extend_schema(description=f"The contacts the caller may see. {CUSTOM_FILTERS_HELP}"))
class ContactViewSet(ScopedModelViewSet):
    module = "customers"
    queryset = Contact.objects.select_related("owner", "team", "company").prefetch_related("emails", "phones", "tags")
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering_fields = ["id", "name", "updated_at", "last_contacted_at"]
    ordering = ["name", "id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Contact:
        return services.contact_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Contact, data: dict[str, Any], version: int) -> Contact:
        return services.contact_update(actor=actor, contact=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Contact) -> None:
        services.contact_delete(actor=actor, contact=instance)
