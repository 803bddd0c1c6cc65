"""Company pages: list, 360 page (with its contacts and its place in a group of companies), form,
delete, bulk actions, and the company picker's suggestions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from crm.core import access
from crm.core.htmx import render_page
from crm.core.views.generic import ModuleAccessMixin, ObjectDetailView, ObjectFormView

from .. import bulk, selectors, services
from ..countries import country_name
from ..filtersets import CompanyFilterSet
from ..forms import CompanyForm
from ..models import Company
from ..phones import display_phone, shown_phone
from .listing import BulkActionView, BulkServices, Column, ColumnChoiceView, CustomerListView
from .records import RecordDeleteView, custom_field_items, record_panels, record_permissions

COMPANY_COLUMNS = (
    Column("domain", gettext_lazy("Domain")),
    Column("industry", gettext_lazy("Industry")),
    Column("size", gettext_lazy("Size")),
    Column("phone", gettext_lazy("Phone")),
    Column("parent", gettext_lazy("Parent company")),
    Column("owner", gettext_lazy("Owner")),
    Column("team", gettext_lazy("Team")),
    Column("tags", gettext_lazy("Tags")),
    Column("city", gettext_lazy("City")),
    Column("country", gettext_lazy("Country")),
    Column("updated", gettext_lazy("Updated")),
)
CONTACTS_SHOWN = 10
SUBSIDIARIES_SHOWN = 20
AUTOCOMPLETE_LIMIT = 10


class CompanyListView(CustomerListView):
    model_key = "company"
    filterset_class = CompanyFilterSet
    columns = COMPANY_COLUMNS
    default_columns = ("domain", "industry", "city", "owner", "updated")
    primary_filters = ("q", "industry", "owner")
    more_filters = ("size", "tag", "team", "country")
    template_name = "customers/company_list.html"
    fragment_name = "customers/partials/_company_results.html"

    def count_text(self, total: int, *, capped: bool) -> str:
        if capped:
            return _("More than %(count)s companies") % {"count": intcomma(total)}
        return ngettext("%(count)s company", "%(count)s companies", total) % {"count": intcomma(total)}

    def get_queryset(self) -> QuerySet[Company]:
        return selectors.company_list(user=self.request.user)

    company_chip = ("parent", gettext_lazy("Subsidiaries of"))


class CompanyColumnsView(ColumnChoiceView):
    model_key = "company"
    columns = COMPANY_COLUMNS
    list_url_name = "customers:company_list"


class CompanyBulkView(BulkActionView):
    model = Company
    list_url_name = "customers:company_list"
    services = BulkServices(
        assign_owner=bulk.company_bulk_assign_owner,
        add_tag=bulk.company_bulk_add_tag,
        remove_tag=bulk.company_bulk_remove_tag,
        delete=bulk.company_bulk_delete,
    )

    def scoped_selection(self, ids: list[int], action: str) -> QuerySet[Company]:
        return selectors.company_list(user=self.request.user, action=action).filter(pk__in=ids)

    def run(self, action: str, ids: list[int], data: dict[str, Any]) -> int:
        count = super().run(action, ids, data)
        if action == "delete":
            kept = self.scoped_selection(ids, "delete").count()
            if kept:
                messages.warning(
                    self.request,
                    ngettext(
                        "%(count)d company was kept: it still has contacts or subsidiaries.",
                        "%(count)d companies were kept: they still have contacts or subsidiaries.",
                        kept,
                    )
                    % {"count": kept},
                )
        return count

    def confirm_title(self, count: int) -> str:
        return ngettext("Delete %(count)d company?", "Delete %(count)d companies?", count) % {"count": count}

    def record_detail(self, record: Company) -> str:
        return " · ".join(part for part in (record.domain, record.city) if part)

    def done_message(self, action: str, count: int) -> str:
        if action == "delete":
            return ngettext("%(count)d company deleted.", "%(count)d companies deleted.", count) % {"count": count}
        return ngettext("%(count)d company changed.", "%(count)d companies changed.", count) % {"count": count}


class CompanyDetailView(ObjectDetailView):
    """The company's 360 page: summary, its contacts, parent and subsidiaries, the panels other
    modules register, and the record's history."""

    module = "customers"
    model = Company
    template_name = "customers/company_detail.html"

    def get_queryset(self) -> QuerySet[Company]:
        return selectors.company_list(user=self.request.user, action=self.permission_action).prefetch_related("tags")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        company: Company = context["object"]
        user = self.request.user
        contacts_qs = selectors.company_contacts(user=user, company=company)
        contacts = list(contacts_qs[:CONTACTS_SHOWN])
        for contact in contacts:
            contact.phone_number, contact.phone_display = shown_phone(contact, contact.phone)
        subsidiaries_qs = selectors.company_subsidiaries(user=user, company=company)
        subsidiaries = list(subsidiaries_qs[: SUBSIDIARIES_SHOWN + 1])
        parent = company.parent
        context.update(
            record_permissions(user),
            panels=record_panels(self.request, company, "customers.company"),
            contacts=contacts,
            contact_count=contacts_qs.count() if len(contacts) == CONTACTS_SHOWN else len(contacts),
            contacts_url=f"{reverse('customers:contact_list')}?company={company.pk}",
            add_contact_url=f"{reverse('customers:contact_create')}?company={company.pk}",
            subsidiaries=subsidiaries[:SUBSIDIARIES_SHOWN],
            more_subsidiaries=len(subsidiaries) > SUBSIDIARIES_SHOWN,
            subsidiaries_url=f"{reverse('customers:company_list')}?parent={company.pk}",
            parent_visible=parent is not None and selectors.company_list(user=user).filter(pk=parent.pk).exists(),
            phone=display_phone(company.phone) if company.phone else "",
            country=country_name(company.country),
            custom_fields=custom_field_items(company),
            former_contacts=selectors.former_contacts(user=user, company=company),
        )
        return context


class CompanyFormView(ObjectFormView):
    module = "customers"
    model = Company
    form_class = CompanyForm
    template_name = "customers/company_form.html"
    success_message = gettext_lazy("The company was saved.")

    def get_queryset(self) -> QuerySet[Company]:
        return selectors.company_list(user=self.request.user, action=self.permission_action)

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        # The form shows no history (the 360 page does): none is read.
        context = self.get_context_data(form=form, object=instance, conflict=conflict)
        return render_page(self.request, str(self.template_name), context, status=status)

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        return {"instance": instance, "user": self.request.user}

    def save(self, form: Any, instance: Any) -> Company:
        data = form.service_data()
        try:
            if instance is None:
                return services.company_create(actor=self.request.user, data=data)
            return services.company_update(
                actor=self.request.user, company=instance, data=data, version=form.cleaned_data["version"]
            )
        except ValidationError as exc:
            raise form.service_error(exc) from None

    def get_success_url(self, obj: Any) -> str:
        if access.can_access_object(self.request.user, obj):
            return str(obj.get_absolute_url())
        messages.info(self.request, _("The company is no longer in your list: it now belongs to someone else."))
        return reverse("customers:company_list")


class CompanyDeleteView(RecordDeleteView):
    model = Company
    success_message = gettext_lazy("The company was deleted.")

    def act(self, obj: Any) -> None:
        services.company_delete(actor=self.request.user, company=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("customers:company_list")


class CompanyAutocompleteView(ModuleAccessMixin, View):
    """A few companies whose name contains what was typed, among those the user can see."""

    module = "customers"

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q") or next((v for k, v in request.GET.items() if k.endswith("_search")), "")
        query = query.strip()[:100]
        companies: list[Company] = []
        if query:
            companies = list(
                selectors.company_list(user=request.user)
                .select_related(None)
                .filter(name__icontains=query)
                .order_by("name", "id")
                .only("id", "name", "city", "domain")[:AUTOCOMPLETE_LIMIT]
            )
        return render(request, "customers/partials/_company_options.html", {"companies": companies, "query": query})
