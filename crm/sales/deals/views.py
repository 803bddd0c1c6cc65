"""Deal pages: list, 360 detail, form, close as won or lost, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core import access, money
from crm.core.exceptions import ConflictError
from crm.core.htmx import render_page
from crm.core.views.generic import (
    ModuleAccessMixin,
    ObjectActionView,
    ObjectDetailView,
    ObjectFormView,
    apply_validation_error,
    record_history_page,
)
from crm.customers.activities import selectors as activity_selectors
from crm.customers.views.records import record_panels

from ..choices import LeadSource
from ..models import Deal
from . import selectors, services
from .filtersets import DealFilterSet
from .forms import DealCloseForm, DealForm

MODULE = "sales"
SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("name", "id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
    "close": ("expected_close_date", "id"),
    "-close": ("-expected_close_date", "-id"),
}


def permissions(user: Any) -> dict[str, bool]:
    return {
        "can_create": access.can(user, MODULE, "create"),
        "can_edit": access.can(user, MODULE, "edit"),
        "can_delete": access.can(user, MODULE, "delete"),
    }


class DealListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        from crm.core.pagination import paginate

        deals: QuerySet[Deal] = selectors.deal_list(user=request.user)
        filterset = DealFilterSet(request.GET or None, queryset=deals, request=request)
        if filterset.is_bound and filterset.is_valid():
            deals = filterset.qs
        sort = request.GET.get("sort", "-created")
        if sort not in SORTS:
            sort = "-created"
        page = paginate(request, deals.order_by(*SORTS[sort]))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "filterset": filterset,
            "page": page,
            "sort": sort,
            "sorts": SORTS,
            "querystring": query.urlencode(),
            "filtered": any(v for k, v in request.GET.items() if k not in {"page", "sort"}),
            "pipelines": list(selectors.pipeline_list()),
            **permissions(request.user),
        }
        return render_page(
            request, "sales/deals/deal_list.html", context, fragment="sales/deals/partials/_deal_rows.html"
        )


class DealDetailView(ObjectDetailView):
    module = MODULE
    model = Deal
    template_name = "sales/deals/deal_detail.html"

    def get_queryset(self) -> QuerySet[Deal]:
        return selectors.deal_list(user=self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        deal = self.get_object()
        context = {
            "object": deal,
            "deal": deal,
            "history": record_history_page(request.user, deal),
            "stage_changes": list(selectors.deal_stage_changes(deal=deal)[:50]),
            "contact_roles": list(deal.contact_roles.select_related("contact")),
            "competitors": list(deal.competitors.all()),
            "activities": list(activity_selectors.related_activities(obj=deal)[:20]),
            "stages": selectors.stage_list(pipeline=deal.pipeline),
            "amount_display": money.format_money(deal.amount, deal.currency),
            "weighted_display": money.format_money(deal.weighted_amount, deal.currency),
            "stale": selectors.is_stale(deal, before=selectors.stale_before()),
            "source_label": dict(LeadSource.choices).get(deal.source, deal.source),
            "product_lines": selectors.deal_product_lines(deal=deal),
            "products_total": services.deal_products_total(deal),
            "product_choices": selectors.product_choices(),
            "panels": record_panels(request, deal, "sales.deal"),
            **permissions(request.user),
        }
        return render(request, self.template_name, context)


class DealFormView(ObjectFormView):
    module = MODULE
    model = Deal
    form_class = DealForm
    template_name = "sales/deals/deal_form.html"

    def get_queryset(self) -> QuerySet[Deal]:
        return selectors.deal_list(user=self.request.user, action=self.permission_action)

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        if instance is None:
            for name in ("company", "pipeline", "stage"):
                if self.request.GET.get(name, "").isdigit():
                    initial[name] = int(self.request.GET[name])
            if self.request.GET.get("contact", "").isdigit():
                initial["contacts"] = [int(self.request.GET["contact"])]
        return {"instance": instance, "user": self.request.user, "initial": initial}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["pipelines"] = list(selectors.pipeline_list())
        return context

    def save(self, form: DealForm, instance: Deal | None) -> Deal:
        data = form.service_data()
        if instance is None:
            self.success_message = _("Deal created.")
            return services.deal_create(actor=self.request.user, data=data)
        self.success_message = _("Deal saved.")
        version = self.request.POST.get("version")
        return services.deal_update(
            actor=self.request.user,
            deal=instance,
            data=data,
            version=int(version) if version and version.isdigit() else None,
        )


class DealCloseView(ModuleAccessMixin, View):
    """Mark a deal won or lost (a loss asks for the reason and the competitor that won)."""

    module = MODULE
    permission_action = "edit"

    def get_deal(self, pk: int) -> Deal:
        return get_object_or_404(selectors.deal_list(user=self.request.user, action="edit"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        deal = self.get_deal(pk)
        outcome = request.GET.get("outcome") if request.GET.get("outcome") in {"won", "lost"} else None
        form = DealCloseForm(initial={"outcome": outcome or "won"})
        return render(request, "sales/deals/deal_close.html", {"deal": deal, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        deal = self.get_deal(pk)
        form = DealCloseForm(request.POST)
        status = 400
        if form.is_valid():
            version = request.POST.get("version")
            try:
                services.deal_close(
                    actor=request.user,
                    deal=deal,
                    won=form.cleaned_data["outcome"] == "won",
                    version=int(version) if version and version.isdigit() else None,
                    loss_reason=form.cleaned_data.get("loss_reason"),
                    lost_to=form.cleaned_data.get("lost_to"),
                )
            except ConflictError as exc:
                form.add_error(None, exc)
                status = 409
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                if form.cleaned_data["outcome"] == "won":
                    messages.success(request, _("Congratulations: the deal is won."))
                else:
                    messages.info(request, _("The deal is marked as lost."))
                return HttpResponseRedirect(deal.get_absolute_url())
        return render(request, "sales/deals/deal_close.html", {"deal": deal, "form": form}, status=status)


class DealDeleteView(ObjectActionView):
    module = MODULE
    model = Deal
    permission_action = "delete"

    def get_queryset(self) -> QuerySet[Deal]:
        return selectors.deal_list(user=self.request.user, action="delete")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, "sales/deals/deal_delete.html", {"deal": self.get_object()})

    def act(self, obj: Deal) -> None:
        services.deal_delete(actor=self.request.user, deal=obj)
        self.success_message = _("Deal deleted.")

    def get_success_url(self, obj: Any) -> str:
        if Deal.objects.filter(pk=obj.pk).exists():
            return str(obj.get_absolute_url())
        return reverse("sales:deal_list")


class DealActivityView(ModuleAccessMixin, View):
    """Log a note, call, meeting or email about a deal (shown on its timeline and the company's)."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        deal = get_object_or_404(selectors.deal_list(user=request.user, action="edit"), pk=pk)
        data = {
            "kind": request.POST.get("kind", "note"),
            "subject": request.POST.get("subject", "")[:200],
            "body": request.POST.get("body", ""),
        }
        try:
            services.deal_log_activity(actor=request.user, deal=deal, data=data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except PermissionDenied:
            messages.error(request, _("You may not log activities."))
        else:
            messages.success(request, _("Activity logged."))
        return HttpResponseRedirect(deal.get_absolute_url() + "#activities")


class DealProductsView(ModuleAccessMixin, View):
    """Add a product to a deal, or remove one (``remove=<line id>``)."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        deal = get_object_or_404(selectors.deal_list(user=request.user, action="edit"), pk=pk)
        try:
            if request.POST.get("remove"):
                services.deal_product_remove(actor=request.user, deal=deal, line_id=request.POST["remove"][:20])
                messages.success(request, _("Product removed."))
            else:
                product = selectors.product_for_deal(pk=request.POST.get("product", ""))
                services.deal_product_add(
                    actor=request.user,
                    deal=deal,
                    data={
                        "product": product,
                        "quantity": request.POST.get("quantity", "1")[:30],
                        "unit_price": request.POST.get("unit_price", "")[:30],
                    },
                )
                messages.success(request, _("Product added."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return HttpResponseRedirect(deal.get_absolute_url() + "#products")
