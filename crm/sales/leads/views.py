"""Lead pages: the list (filters, sorting, keyset pages, bulk assignment), the lead's page (fields,
status, score, activities, history), the form, deletion and the conversion."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from crm.core import access
from crm.core.exceptions import ConflictError
from crm.core.htmx import render_page
from crm.core.pagination import keyset_paginate
from crm.core.views.generic import (
    ModuleAccessMixin,
    ObjectActionView,
    ObjectDetailView,
    ObjectFormView,
    ScopedObjectMixin,
    apply_validation_error,
    record_history_page,
)
from crm.customers.activities.forms import ActivityForm
from crm.customers.bulk import clean_ids
from crm.customers.choices import ActivityKind
from crm.customers.countries import country_name
from crm.customers.phones import shown_phone
from crm.customers.views.listing import safe_next
from crm.customers.views.records import RecordDeleteView, record_panels

from ..choices import LeadStatus
from ..models import Lead
from . import conversion, selectors, services
from .filtersets import LeadFilterSet
from .forms import ConvertForm, LeadBulkForm, LeadEditForm, LeadStatusForm

MODULE = "sales"
TEMPLATES = "sales/leads/"
SCORE_TEMPLATE = "sales/scoring/_lead_score.html"

# ?sort= value -> ordering for keyset pages (every field the same direction, ending with the id); each
# is served by an index of the lead table.
SORTS: dict[str, tuple[str, ...]] = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-score": ("-score", "-id"),
    "score": ("score", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}
SORT_CHOICES = (
    ("-created", gettext_lazy("Newest first")),
    ("created", gettext_lazy("Oldest first")),
    ("-score", gettext_lazy("Highest score first")),
    ("score", gettext_lazy("Lowest score first")),
    ("name", gettext_lazy("Name A–Z")),
    ("-name", gettext_lazy("Name Z–A")),
)
DEFAULT_SORT = "-created"
PRIMARY_FILTERS = ("q", "status", "owner")
MORE_FILTERS = ("source", "team", "score_min", "score_max", "created_from", "created_to")
ACTIVITY_KINDS = (
    (ActivityKind.NOTE, gettext_lazy("Note"), "ti-note"),
    (ActivityKind.CALL, gettext_lazy("Call"), "ti-phone"),
    (ActivityKind.MEETING, gettext_lazy("Meeting"), "ti-users"),
    (ActivityKind.EMAIL, gettext_lazy("Email"), "ti-mail"),
)


def score_template() -> str:
    """The scoring part's box of a lead's score and its reasons, when that part is installed."""
    try:
        get_template(SCORE_TEMPLATE)
    except TemplateDoesNotExist:
        return ""
    return SCORE_TEMPLATE


def _sort_headers(request: HttpRequest, sort: str) -> dict[str, dict[str, str]]:
    """Links of the sortable column headers (a second click reverses the order), and their state."""

    def url(value: str) -> str:
        params = request.GET.copy()
        for name in ("after", "before", "sort"):
            params.pop(name, None)
        if value != DEFAULT_SORT:
            params["sort"] = value
        return params.urlencode()

    def header(key: str, first: str) -> dict[str, str]:
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        again = f"-{key}" if sort == key else key
        return {"url": url(again if state else first), "state": state}

    return {
        "name": header("name", "name"),
        "score": header("score", "-score"),
        "created": header("created", "-created"),
    }


class LeadListView(ModuleAccessMixin, View):
    module = MODULE
    filterset_class = LeadFilterSet
    columns: tuple[str, ...] = ()  # the list's columns are fixed (saved views keep filters and sort)
    per_page = 25

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        filterset = LeadFilterSet(request.GET or None, queryset=selectors.lead_list(user=user), request=request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        sort = request.GET.get("sort", DEFAULT_SORT)
        if sort not in SORTS:
            sort = DEFAULT_SORT
        page = keyset_paginate(request, rows, ordering=SORTS[sort], per_page=self.per_page)
        form = filterset.form
        choices = {
            name: [(value, label) for value, label in field.choices if value not in ("", None)]
            for name, field in form.fields.items()
            if name in ("status", "source", "team")
        }
        can_edit = access.can(user, MODULE, "edit")
        capped, total = page.total_capped, page.total
        if capped:
            count_text = _("More than %(count)s leads") % {"count": intcomma(total)}
        else:
            count_text = ngettext("%(count)s lead", "%(count)s leads", total) % {"count": intcomma(total)}
        context = {
            "filterset": filterset,
            "primary_filters": [(form[name], choices.get(name)) for name in PRIMARY_FILTERS],
            "more_filters": [(form[name], choices.get(name)) for name in MORE_FILTERS],
            "more_filters_open": any(request.GET.get(name) for name in MORE_FILTERS),
            "more_filters_active": sum(1 for name in MORE_FILTERS if request.GET.get(name)),
            "filtered": any(request.GET.get(name) for name in filterset.filters),
            "page": page,
            "paged": bool(request.GET.get("after") or request.GET.get("before")),
            "sort": sort,
            "sort_choices": SORT_CHOICES,
            "sort_headers": _sort_headers(request, sort),
            "count_text": count_text,
            "can_create": access.can(user, MODULE, "create"),
            "bulk": can_edit,
            "clear_url": request.path,
            "list_key": "sales.lead",
        }
        return render_page(
            request, TEMPLATES + "lead_list.html", context, fragment=TEMPLATES + "partials/_results.html"
        )


class LeadBulkView(ModuleAccessMixin, View):
    """Give the leads picked in the list to another owner (ids outside the user's scope change nothing)."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest) -> HttpResponse:
        back = safe_next(request, reverse("sales:lead_list"))
        ids = clean_ids(request.POST.getlist("ids"))
        if not ids:
            messages.warning(request, _("Select at least one row first."))
            return HttpResponseRedirect(back)
        form = LeadBulkForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return HttpResponseRedirect(back)
        try:
            count = services.lead_bulk_assign_owner(actor=request.user, ids=ids, owner=form.cleaned_data["owner"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                ngettext("%(count)d lead changed hands.", "%(count)d leads changed hands.", count) % {"count": count},
            )
        return HttpResponseRedirect(back)


def activity_forms(user: Any, bound: Any = None) -> list[tuple[str, Any, str, Any]]:
    """A form per kind of activity (the one sent, with its errors, in place of its blank one)."""
    forms: list[tuple[str, Any, str, Any]] = []
    for kind, label, icon in ACTIVITY_KINDS:
        form = bound if bound is not None and bound.activity_kind == kind else None
        forms.append((kind, label, icon, form or ActivityForm(user=user, kind=kind, editing=True)))
    return forms


class LeadDetailView(ObjectDetailView):
    module = MODULE
    model = Lead
    template_name = TEMPLATES + "lead_detail.html"

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_detail_queryset(user=self.request.user, action=self.permission_action)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        lead: Lead = context["object"]
        user = self.request.user
        can_edit = access.can(user, MODULE, "edit")
        can_log = can_edit and access.can(user, "customers", "create")
        context.update(
            lead=lead,
            can_edit=can_edit,
            can_delete=access.can(user, MODULE, "delete"),
            can_convert=can_edit and lead.status in services.CONVERTIBLE,
            phone=shown_phone(lead, lead.phone),
            country=country_name(lead.country),
            score_template=score_template(),
            activities=selectors.lead_activities(lead=lead),
            log_forms=activity_forms(user, kwargs.get("bound_form")) if can_log else [],
            active_kind=getattr(kwargs.get("bound_form"), "activity_kind", ActivityKind.NOTE),
            status_form=LeadStatusForm(initial={"status": lead.status, "version": lead.version}) if can_edit else None,
            **(selectors.lead_links(user=user, lead=lead) if lead.status == LeadStatus.CONVERTED else {}),
            panels=record_panels(self.request, lead, "sales.lead"),
        )
        return context


class LeadActivityView(ScopedObjectMixin, View):
    """Log a note, call, meeting or email about the lead; it counts as working the lead."""

    module = MODULE
    model = Lead
    permission_action = "edit"

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_detail_queryset(user=self.request.user, action="edit")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not access.can(request.user, "customers", "create"):
            raise PermissionDenied
        lead = self.get_object()
        kind = request.POST.get("kind") or ActivityKind.NOTE
        form = ActivityForm(request.POST, user=request.user, kind=kind, editing=True)
        if form.is_valid():
            try:
                services.lead_log_activity(actor=request.user, lead=lead, data=form.service_data())
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved to the lead's activities."))
                return HttpResponseRedirect(f"{lead.get_absolute_url()}#activities")
        view = LeadDetailView()
        view.setup(request, pk=pk)
        context = view.get_context_data(object=lead, history=record_history_page(request.user, lead), bound_form=form)
        return render_page(request, TEMPLATES + "lead_detail.html", context, status=400)


class LeadStatusView(ObjectActionView):
    module = MODULE
    model = Lead
    success_message = gettext_lazy("The status was changed.")  # type: ignore[assignment]

    def act(self, obj: Lead) -> None:
        form = LeadStatusForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(_("Choose one of the statuses."))
        try:
            services.lead_set_status(
                actor=self.request.user,
                lead=obj,
                status=form.cleaned_data["status"],
                version=form.cleaned_data["version"],
            )
        except ConflictError:
            raise ValidationError(_("Someone else changed this lead meanwhile: here is its current state.")) from None

    def get_success_url(self, obj: Lead) -> str:
        return str(obj.get_absolute_url())


class LeadFormView(ObjectFormView):
    module = MODULE
    model = Lead
    form_class = LeadEditForm
    template_name = TEMPLATES + "lead_form.html"
    success_message = gettext_lazy("The lead was saved.")  # type: ignore[assignment]

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_list(user=self.request.user, action=self.permission_action)

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        return {"instance": instance, "user": self.request.user}

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        # The form shows no history (the lead's page does): none is read.
        context = self.get_context_data(form=form, object=instance, conflict=conflict)
        return render_page(self.request, str(self.template_name), context, status=status)

    def save(self, form: Any, instance: Any) -> Lead:
        data = form.service_data()
        if instance is None:
            return services.lead_create(actor=self.request.user, data=data)
        return services.lead_update(
            actor=self.request.user, lead=instance, data=data, version=form.cleaned_data["version"]
        )

    def get_success_url(self, obj: Any) -> str:
        if access.can_access_object(self.request.user, obj):
            return str(obj.get_absolute_url())
        messages.info(self.request, _("The lead is no longer in your list: it now belongs to someone else."))
        return reverse("sales:lead_list")


class LeadDeleteView(RecordDeleteView):
    module = MODULE
    model = Lead
    success_message = gettext_lazy("The lead was deleted.")  # type: ignore[assignment]

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_list(user=self.request.user, action="delete")

    def act(self, obj: Any) -> None:
        services.lead_delete(actor=self.request.user, lead=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("sales:lead_list")


class LeadConvertView(ScopedObjectMixin, View):
    """Shows what converting the lead will reuse and what it will create; converts on confirmation."""

    module = MODULE
    model = Lead
    permission_action = "edit"

    def get_queryset(self) -> QuerySet[Lead]:
        return selectors.lead_detail_queryset(user=self.request.user, action="edit")

    def build_form(self, lead: Lead, data: Any = None) -> ConvertForm:
        from crm.sales.deals.selectors import pipeline_list

        plan = selectors.conversion_plan(user=self.request.user, lead=lead)
        return ConvertForm(
            data,
            lead=lead,
            plan=plan,
            pipelines=pipeline_list().order_by("order", "id"),
            deal_name=conversion.default_deal_name(lead, plan.company),
            initial={"version": lead.version},
        )

    def render(self, lead: Lead, form: ConvertForm | None, *, status: int = 200, problem: str = "") -> HttpResponse:
        user = self.request.user
        context: dict[str, Any] = {
            "lead": lead,
            "object": lead,
            "form": form,
            "plan": form.plan if form is not None else None,
            "phone": shown_phone(lead, lead.phone),
            "problem": problem,
            "can_create_deal": access.can(user, MODULE, "create"),
            "can_create_customers": access.can(user, "customers", "create"),
        }
        if lead.status == LeadStatus.CONVERTED:
            context.update(selectors.lead_links(user=user, lead=lead))
        return render_page(self.request, TEMPLATES + "lead_convert.html", context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        lead = self.get_object()
        try:
            services.check_convertible(lead)
        except ValidationError as exc:
            return self.render(lead, None, problem=exc.messages[0])
        return self.render(lead, self.build_form(lead))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from crm.customers import selectors as customer_selectors

        lead = self.get_object()
        try:
            services.check_convertible(lead)
        except ValidationError as exc:
            return self.render(lead, None, problem=exc.messages[0], status=400)
        form = self.build_form(lead, request.POST)
        if not form.is_valid():
            return self.render(lead, form, status=400)
        kwargs = form.service_kwargs()
        contact_id, company_id = kwargs.pop("contact_id"), kwargs.pop("company_id")
        if not access.can(request.user, MODULE, "create"):
            kwargs.pop("deal", None)
        try:
            kwargs["contact"] = (
                customer_selectors.contact_list(user=request.user).filter(pk=contact_id).first() if contact_id else None
            )
            kwargs["company"] = (
                customer_selectors.company_list(user=request.user).filter(pk=company_id).first() if company_id else None
            )
            if contact_id and kwargs["contact"] is None:
                raise ValidationError({"contact": _("Select a valid choice.")})
            if company_id and kwargs["company"] is None:
                raise ValidationError({"company": _("Select a valid choice.")})
            converted = services.lead_convert(actor=request.user, lead=lead, **kwargs)
        except ConflictError as exc:
            form.add_error(None, exc)
            return self.render(lead, form, status=409)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.render(lead, form, status=400)
        messages.success(request, _("The lead was converted."))
        return HttpResponseRedirect(converted.get_absolute_url())
