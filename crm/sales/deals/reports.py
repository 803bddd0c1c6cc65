"""The win/loss report and the sales dashboard pages."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from crm.core import money
from crm.core.views.generic import ModuleAccessMixin

from . import reporting

MODULE = "sales"


class WinLossForm(forms.Form):
    group = forms.ChoiceField(
        label=_("Group by"),
        choices=[(key, label) for key, (label, _column) in reporting.DIMENSIONS.items()],
        required=False,
    )
    date_from = forms.DateField(label=_("Closed from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Closed until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:  # type: ignore[type-arg]
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end comes before the start."))
        return data


class WinLossView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        form = WinLossForm(request.GET or None)
        dimension, date_from, date_to = "reason", today - timedelta(days=365), today
        status = 200
        if form.is_bound:
            if form.is_valid():
                dimension = form.cleaned_data.get("group") or dimension
                date_from = form.cleaned_data.get("date_from") or date_from
                date_to = form.cleaned_data.get("date_to") or date_to
            else:
                status = 400
        report = reporting.win_loss(user=request.user, dimension=dimension, date_from=date_from, date_to=date_to)
        context = {
            "form": form,
            "report": report,
            "dimension": dimension,
            "dimension_label": reporting.DIMENSIONS[dimension][0],
            "date_from": date_from,
            "date_to": date_to,
            "base_currency": money.base_currency(),
        }
        return render(request, "sales/deals/win_loss.html", context, status=status)


class SalesDashboardView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        data = reporting.dashboard(user=request.user)
        quota = data["quota_month"]
        data["quota_share"] = float(data["won_month"] / quota * 100) if quota else None
        data["base_currency"] = money.base_currency()
        top = max((row["total"] for row in data["stages"]), default=0) or 1
        for row in data["stages"]:
            row["share"] = float(row["total"] / top * 100)
        return render(request, "sales/deals/dashboard.html", data)
