"""Settings → Exchange rates: the administrator's page. The current rate of each currency against the
company's currency, the history of one currency (``?currency=EUR``), a form to add a rate from a day
on, and deleting a rate entered by mistake."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core.money import base_currency
from crm.core.views.generic import ModuleAccessMixin, apply_validation_error

from .. import selectors
from ..catalog import services
from ..display import plain
from ..forms import ExchangeRateForm

MODULE = selectors.ADMIN_MODULE


def _list_url(currency: str = "") -> str:
    url = reverse("sales:exchange_rate_list")
    return f"{url}?currency={currency}" if currency else url


class ExchangeRateListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        currency = request.GET.get("currency", "").strip().upper()[:3]
        initial = {"currency": currency} if currency else {}
        return self.render_page(ExchangeRateForm(initial=initial), currency)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not selectors.can_manage_rates(request.user, "create"):
            raise PermissionDenied
        form = ExchangeRateForm(data=request.POST)
        if form.is_valid():
            try:
                rate = services.exchange_rate_create(actor=request.user, data=dict(form.cleaned_data))
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    _("The rate of %(code)s from %(day)s was added.")
                    % {"code": rate.currency, "day": rate.valid_from.isoformat()},
                )
                return HttpResponseRedirect(_list_url(rate.currency))
        return self.render_page(form, str(request.POST.get("currency", "")).upper()[:3], status=400)

    def render_page(self, form: ExchangeRateForm, currency: str, *, status: int = 200) -> HttpResponse:
        history = list(selectors.exchange_rate_list(currency=currency)[:200]) if currency else []
        current = selectors.exchange_rate_current()
        for rate in [*history, *current]:
            rate.rate_display = plain(rate.rate)  # type: ignore[attr-defined]
        context: dict[str, Any] = {
            "form": form,
            "base": base_currency(),
            "current": current,
            "currency": currency,
            "history": history,
            "can_create": selectors.can_manage_rates(self.request.user, "create"),
            "can_delete": selectors.can_manage_rates(self.request.user, "delete"),
        }
        return render(self.request, "sales/quotes/exchange_rate_list.html", context, status=status)


class ExchangeRateDeleteView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "delete"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rate = get_object_or_404(selectors.exchange_rate_list(), pk=pk)
        services.exchange_rate_delete(actor=request.user, rate=rate)
        messages.success(
            request,
            _("The rate of %(code)s from %(day)s was deleted.")
            % {"code": rate.currency, "day": rate.valid_from.isoformat()},
        )
        return HttpResponseRedirect(_list_url(rate.currency))
