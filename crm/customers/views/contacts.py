"""Contact pages: list, 360 page, form, delete, bulk actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from crm.core import access
from crm.core.crypto import masking
from crm.core.htmx import render_page
from crm.core.views.errors import bad_request
from crm.core.views.generic import ModuleAccessMixin, ObjectDetailView, ObjectFormView

from .. import bulk, selectors, services
from ..countries import country_name
from ..filtersets import ContactFilterSet
from ..forms import ContactForm
from ..models import Contact
from ..phones import shown_phone
from .listing import BulkActionView, BulkServices, Column, ColumnChoiceView, CustomerListView
from .records import RecordDeleteView, custom_field_items, record_panels, record_permissions

CONTACT_COLUMNS = (
    Column("email", gettext_lazy("Email")),
    Column("phone", gettext_lazy("Phone")),
    Column("company", gettext_lazy("Company")),
    Column("title", gettext_lazy("Job title")),
    Column("lifecycle_stage", gettext_lazy("Lifecycle stage")),
    Column("owner", gettext_lazy("Owner")),
    Column("team", gettext_lazy("Team")),
    Column("tags", gettext_lazy("Tags")),
    Column("city", gettext_lazy("City")),
    Column("country", gettext_lazy("Country")),
    Column("updated", gettext_lazy("Updated")),
)


class ContactListView(CustomerListView):
    model_key = "contact"
    phone_is_sensitive = True
    filterset_class = ContactFilterSet
    columns = CONTACT_COLUMNS
    default_columns = ("email", "phone", "company", "lifecycle_stage", "owner")
    primary_filters = ("q", "lifecycle_stage", "owner")
    more_filters = ("tag", "source", "team", "country")
    bulk_actions = ("assign_owner", "add_tag", "remove_tag", "set_stage", "delete")
    template_name = "customers/contact_list.html"
    fragment_name = "customers/partials/_contact_results.html"

    def count_text(self, total: int, *, capped: bool) -> str:
        if capped:
            return _("More than %(count)s contacts") % {"count": intcomma(total)}
        return ngettext("%(count)s contact", "%(count)s contacts", total) % {"count": intcomma(total)}

    def get_queryset(self) -> QuerySet[Contact]:
        return selectors.contact_list(user=self.request.user)

    company_chip = ("company", gettext_lazy("Company"))


class ContactColumnsView(ColumnChoiceView):
    model_key = "contact"
    columns = CONTACT_COLUMNS
    list_url_name = "customers:contact_list"


class ContactBulkView(BulkActionView):
    model = Contact
    list_url_name = "customers:contact_list"
    services = BulkServices(
        assign_owner=bulk.contact_bulk_assign_owner,
        add_tag=bulk.contact_bulk_add_tag,
        remove_tag=bulk.contact_bulk_remove_tag,
        delete=bulk.contact_bulk_delete,
        set_stage=bulk.contact_bulk_set_lifecycle_stage,
    )

    def scoped_selection(self, ids: list[int], action: str) -> QuerySet[Contact]:
        return selectors.contact_list(user=self.request.user, action=action).filter(pk__in=ids)

    def confirm_title(self, count: int) -> str:
        return ngettext("Delete %(count)d contact?", "Delete %(count)d contacts?", count) % {"count": count}

    def record_detail(self, record: Contact) -> str:
        return " · ".join(part for part in (record.email, record.company.name if record.company else "") if part)

    def done_message(self, action: str, count: int) -> str:
        if action == "delete":
            return ngettext("%(count)d contact deleted.", "%(count)d contacts deleted.", count) % {"count": count}
        return ngettext("%(count)d contact changed.", "%(count)d contacts changed.", count) % {"count": count}


class ContactDetailView(ObjectDetailView):
    """The contact's 360 page: summary, the panels other modules register (timeline, tasks, deals,
    tickets...), and the record's history."""

    module = "customers"
    model = Contact
    template_name = "customers/contact_detail.html"

    def get_queryset(self) -> QuerySet[Contact]:
        return selectors.contact_detail_queryset(user=self.request.user, action=self.permission_action)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contact: Contact = context["object"]
        company = contact.company
        context.update(
            record_permissions(self.request.user),
            panels=record_panels(self.request, contact, "customers.contact"),
            phones=[(phone, *shown_phone(contact, phone.number)) for phone in contact.phones.all()],
            address_lines=contact_address_lines(contact),
            sensitive_details=[
                (label, masking.shown(contact, value))
                for label, value in (
                    (_("Date of birth"), date_format(contact.date_of_birth) if contact.date_of_birth else ""),
                    (_("Identity number"), contact.id_number),
                )
                if value
            ],
            private_notes=masking.shown(contact, contact.private_notes),
            company_visible=company is not None
            and selectors.company_list(user=self.request.user).filter(pk=company.pk).exists(),
            custom_fields=custom_field_items(contact),
            past_companies=selectors.past_companies(user=self.request.user, contact=contact),
        )
        return context


def contact_address_lines(contact: Contact) -> list[str]:
    """The contact's address as lines to show, the street and postal code masked for a viewer who may
    not see sensitive fields (city, region and country are not encrypted)."""
    street = masking.shown(contact, contact.street)
    postal_code = masking.shown(contact, contact.postal_code)
    city_line = " ".join(part for part in (postal_code, contact.city) if part)
    country = country_name(contact.country) if contact.country else ""
    return [line for line in (street, city_line, contact.region, country) if line]


class ContactFormView(ObjectFormView):
    module = "customers"
    model = Contact
    form_class = ContactForm
    template_name = "customers/contact_form.html"
    success_message = gettext_lazy("The contact was saved.")

    def get_queryset(self) -> QuerySet[Contact]:
        return selectors.contact_detail_queryset(user=self.request.user, action=self.permission_action)

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        # The form shows no history (the 360 page does): none is read.
        context = self.get_context_data(form=form, object=instance, conflict=conflict)
        return render_page(self.request, str(self.template_name), context, status=status)

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"instance": instance, "user": self.request.user}
        company = self.request.GET.get("company", "")
        if instance is None and company.isdigit():
            kwargs["initial"] = {"company": company}  # "Add contact" on a company's page
        return kwargs

    def save(self, form: Any, instance: Any) -> Contact:
        data = form.service_data()
        try:
            if instance is None:
                return services.contact_create(actor=self.request.user, data=data)
            return services.contact_update(
                actor=self.request.user, contact=instance, data=data, version=form.cleaned_data["version"]
            )
        except ValidationError as exc:
            raise form.service_error(exc) from None

    def get_success_url(self, obj: Any) -> str:
        if access.can_access_object(self.request.user, obj):
            return str(obj.get_absolute_url())
        messages.info(self.request, _("The contact is no longer in your list: it now belongs to someone else."))
        return reverse("customers:contact_list")


class ContactDeleteView(RecordDeleteView):
    model = Contact
    success_message = gettext_lazy("The contact was deleted.")

    def act(self, obj: Any) -> None:
        services.contact_delete(actor=self.request.user, contact=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("customers:contact_list")


class ContactAutocompleteView(ModuleAccessMixin, View):
    """Suggestions for ``ContactSelectMultiple``: a few contacts whose name or email starts with or
    contains what was typed, among those the user can see."""

    module = "customers"

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q", "")
        if len(query) > 100:
            return bad_request(request)
        contacts = selectors.contact_autocomplete(user=request.user, query=query.strip()) if query.strip() else []
        return render(
            request, "customers/partials/_contact_options.html", {"contacts": contacts, "query": query.strip()}
        )
