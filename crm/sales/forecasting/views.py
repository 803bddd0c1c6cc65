"""Pages of the forecast (read from the stored runs, never computed on the request) and of quotas (a
grid of people or teams × twelve months, saved a row at a time)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from crm.core import access
from crm.core import selectors as core_selectors
from crm.core.exceptions import ConflictError
from crm.core.htmx import wants_fragment
from crm.core.money import base_currency, format_money
from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin

from ..choices import ForecastStatus
from ..models import ForecastRun
from . import results, selectors, services
from .scopes import ALL, KIND_LABELS, MODULE, OWNER, TEAM, Scope, default_scope, may_see
from .series import add_months, month_key, month_start

GRID_MONTHS = 12
GRID_PAGE = 25

# --- forecast ---------------------------------------------------------------------------------------------


def _job(request: HttpRequest) -> Any:
    job_id = request.GET.get("job", "")
    if not job_id:
        return None
    try:
        return core_selectors.job_get(user=request.user, job_id=job_id)
    except ValidationError:
        return None


def _scope_title(scope: Scope, run: ForecastRun | None, index: list[dict[str, Any]]) -> str:
    if scope.kind == ALL:
        return _("Everyone")
    label = (run.result.get("label") if run is not None else "") or next(
        (str(entry.get("label") or "") for entry in index if entry.get("key") == scope.key), ""
    )
    if label:
        return str(label)
    return {OWNER: _("Person #%(id)s"), TEAM: _("Team #%(id)s")}.get(scope.kind, _("Pipeline #%(id)s")) % {
        "id": scope.id
    }


class ForecastView(ModuleAccessMixin, View):
    """Sales → Forecast: history, each method's forecast with its intervals, the backtest, the weighted
    pipeline, and forecast vs quota vs actual, for the chosen scope, from its newest stored run."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        raw = request.GET.get("scope", "")
        scope = Scope.parse(raw) if raw else default_scope(user)
        if scope is None or not may_see(user, scope):
            raise Http404
        run = selectors.forecast_latest(user=user, scope=scope)
        index = (run.result.get("scopes") or []) if run is not None else selectors.forecast_index()
        groups = selectors.scope_choices(user=user, index=index)
        if not any(option["key"] == scope.key for group in groups for option in group["options"]):
            groups.insert(
                0, {"kind": scope.kind, "options": [{"key": scope.key, "label": _scope_title(scope, run, index)}]}
            )
        for group in groups:
            group["label"] = KIND_LABELS.get(group["kind"], "")
            if group["kind"] == ALL:
                for option in group["options"]:
                    option["label"] = _("Everyone")
        context: dict[str, Any] = {
            "scope": scope,
            "scope_title": _scope_title(scope, run, index),
            "run": run,
            "groups": groups,
            "can_recompute": access.can(user, MODULE, "edit"),
            "job": _job(request),
            "view": results.present(run.result) if run is not None and run.status == ForecastStatus.READY else None,
            "company_currency": base_currency(),
        }
        return render(request, "sales/forecasting/forecast.html", context)


class ForecastRecomputeView(ModuleAccessMixin, View):
    """Recompute: a background job, whose progress the page shows."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest) -> HttpResponse:
        job = services.forecast_recompute_start(actor=request.user)
        scope = Scope.parse(request.POST.get("scope", ""))
        query = {"scope": scope.key} if scope is not None else {}
        reload_url = f"{reverse('sales:forecast')}?{urlencode(query)}" if query else reverse("sales:forecast")
        if wants_fragment(request):
            return render(
                request, "sales/forecasting/partials/_recompute_status.html", {"job": job, "reload_url": reload_url}
            )
        separator = "&" if query else "?"
        return HttpResponseRedirect(f"{reload_url}{separator}job={job.pk}")


# --- quotas -----------------------------------------------------------------------------------------------

PEOPLE = "people"
TEAMS = "teams"


def _grid_start(raw: str) -> date:
    try:
        return services.parse_month(raw) if raw else month_start(timezone.localdate())
    except ValidationError:
        return month_start(timezone.localdate())


def _months(start: date) -> list[date]:
    return [add_months(start, step) for step in range(GRID_MONTHS)]


def _row(
    *,
    tab: str,
    target: Any,
    months: list[date],
    cells: dict[Any, Any],
    editable: bool,
    query: str = "",
    typed: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    kind = OWNER if tab == PEOPLE else TEAM
    url_name = "sales:quota_row_person" if tab == PEOPLE else "sales:quota_row_team"
    row_cells = []
    for month in months:
        key = month_key(month)
        quota = cells.get((kind, target.pk, month))
        value = "" if quota is None else _plain(quota.amount)
        row_cells.append(
            {
                "key": key,
                "label": date_format(month, "YEAR_MONTH_FORMAT"),
                "value": (typed or {}).get(key, value),
                "display": "" if quota is None or editable else format_money(quota.amount, base_currency()),
                "version": "" if quota is None else quota.version,
                "errors": (errors or {}).get(key, []),
            }
        )
    url = reverse(url_name, args=[target.pk])
    return {
        "id": f"quota-{tab}-{target.pk}",
        "label": str(target),
        "action": f"{url}?{query}" if query else url,
        "editable": editable,
        "cells": row_cells,
        # Errors that are not about one month (e.g. "You cannot set quotas for this person.") go on the row.
        "errors": [
            message
            for key, messages_of_key in (errors or {}).items()
            if key not in {cell["key"] for cell in row_cells}
            for message in messages_of_key
        ],
    }


def _plain(amount: Any) -> str:
    """An amount as typed into a cell: ``12500`` rather than ``12500.00``, cents when there are any."""
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def _editable(user: Any, tab: str, target_id: int) -> bool:
    people, teams = selectors.quota_reach(user, action="edit")
    reach = people if tab == PEOPLE else teams
    return reach is None or target_id in reach


def _targets(user: Any, tab: str) -> Any:
    return selectors.quota_people(user=user) if tab == PEOPLE else selectors.quota_teams(user=user)


class QuotaListView(ModuleAccessMixin, View):
    """Sales → Forecast → Quotas: what each person (or team) should win, month by month."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        return render_grid(request)


def render_grid(
    request: HttpRequest, *, tab: str = "", override: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    tab = tab or (TEAMS if request.GET.get("tab") == TEAMS else PEOPLE)
    start = _grid_start(request.GET.get("start") or request.POST.get("start") or "")
    months = _months(start)
    page = paginate(request, _targets(user, tab), per_page=GRID_PAGE)
    targets = list(page.object_list)
    cells = (
        selectors.quota_cells(people=targets, months=months)
        if tab == PEOPLE
        else selectors.quota_cells(teams=targets, months=months)
    )
    people_reach, teams_reach = selectors.quota_reach(user, action="edit")
    reach = people_reach if tab == PEOPLE else teams_reach
    query = {"tab": tab, "start": month_key(start)}
    if page.number > 1:
        query["page"] = str(page.number)
    rows = []
    for target in targets:
        if override is not None and override["id"] == f"quota-{tab}-{target.pk}":
            rows.append(override)
            continue
        editable = reach is None or target.pk in reach
        rows.append(_row(tab=tab, target=target, months=months, cells=cells, editable=editable, query=urlencode(query)))
    context = {
        "tab": tab,
        "start": month_key(start),
        "months": months,
        "previous_start": month_key(add_months(start, -GRID_MONTHS)),
        "next_start": month_key(add_months(start, GRID_MONTHS)),
        "page": page,
        "rows": rows,
        "querystring": urlencode({"tab": tab, "start": month_key(start)}),
        "can_set": services.can_set_quotas(user),
        "currency": base_currency(),
    }
    return render(request, "sales/forecasting/quota_list.html", context, status=status)


class QuotaRowView(ModuleAccessMixin, View):
    """Save one row of the grid (htmx sends it as soon as a cell changes; without JavaScript, its Save
    button does). One bad cell writes nothing and is marked; a conflict shows the current amounts."""

    module = MODULE
    permission_action = "edit"
    tab = PEOPLE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        target = _targets(user, self.tab).filter(pk=pk).first()
        if target is None:
            raise Http404
        start = _grid_start(request.POST.get("start") or request.GET.get("start") or "")
        months = _months(start)
        typed = {month_key(month): request.POST.get(f"amount-{month_key(month)}", "") for month in months}
        cells_sent = [
            (month, typed[month_key(month)], request.POST.get(f"version-{month_key(month)}", "")) for month in months
        ]
        ids = {"user_id": pk} if self.tab == PEOPLE else {"team_id": pk}
        editable = _editable(user, self.tab, pk)
        status, errors, message = 200, None, ""
        try:
            services.quota_row_save(actor=user, cells=cells_sent, **ids)  # type: ignore[arg-type]
        except ConflictError:
            status, message, typed = (
                409,
                _("Someone changed these quotas meanwhile; these are the current amounts."),
                {},
            )
        except ValidationError as exc:
            status = 422
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        else:
            typed = {}
            message = _("Saved.")
        cells = (
            selectors.quota_cells(people=[target], months=months)
            if self.tab == PEOPLE
            else selectors.quota_cells(teams=[target], months=months)
        )
        query = urlencode({key: value for key, value in request.GET.items() if key in ("tab", "start", "page")})
        row = _row(
            tab=self.tab,
            target=target,
            months=months,
            cells=cells,
            editable=editable,
            query=query,
            typed=typed,
            errors=errors,
        )
        if status == 409:
            row["errors"] = [message]
        if wants_fragment(request):
            context = {"row": row, "months": months, "start": month_key(start), "tab": self.tab, "saved": status == 200}
            return render(request, "sales/forecasting/partials/_quota_row.html", context, status=status)
        if status == 200:
            messages.success(request, _("The quotas of %(name)s were saved.") % {"name": target})
            query = {"tab": self.tab, "start": month_key(start)}
            page = request.GET.get("page", "")
            if page.isdigit():
                query["page"] = page
            return HttpResponseRedirect(f"{reverse('sales:quota_list')}?{urlencode(query)}")
        return render_grid(request, tab=self.tab, override=row, status=400 if status == 422 else status)


class QuotaPersonRowView(QuotaRowView):
    tab = PEOPLE


class QuotaTeamRowView(QuotaRowView):
    tab = TEAMS
