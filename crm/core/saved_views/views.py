"""Pages of saved views: save the current view of a list, apply a view, rename, share or delete one.

A view that is not the user's own (nor shared with one of their teams, for applying) answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from .. import access
from ..htmx import render_page, wants_fragment
from ..views.generic import apply_validation_error
from . import selectors, services
from .forms import SavedViewCreateForm, SavedViewForm
from .queries import normalize_query
from .registry import ListSpec, get_list, list_url, registered_lists

TEMPLATES = "core/saved_views/"


def _list_or_404(key: Any) -> ListSpec:
    spec = get_list(key if isinstance(key, str) else None)
    if spec is None:
        raise Http404
    return spec


def _manage_url(list_key: str = "") -> str:
    url = reverse("core:saved_view_list")
    return f"{url}?list={list_key}" if list_key else url


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Go to ``url``: with htmx (the dialog), the whole page goes there."""
    if wants_fragment(request):
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SavedViewCreateView(LoginRequiredMixin, View):
    """Save the current view of a list (``?list=`` the list's key, ``?query=`` its query string)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        spec = _list_or_404(request.GET.get("list"))
        if not access.can(request.user, spec.module, "view"):
            raise Http404
        query = normalize_query(spec, request.GET.get("query", ""))
        form = SavedViewCreateForm(user=request.user, initial={"list_key": spec.key, "query": query})
        return self.render(request, form, spec)

    def post(self, request: HttpRequest) -> HttpResponse:
        spec = _list_or_404(request.POST.get("list_key"))
        form = SavedViewCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            stored = request.session.get(spec.session_key)
            try:
                view = services.saved_view_create(
                    actor=request.user,
                    list_key=spec.key,
                    name=data["name"],
                    query=data["query"],
                    columns=stored if isinstance(stored, list) else None,
                    team=data["team"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("The view “%(name)s” was saved.") % {"name": view.name})
                return _redirect(request, list_url(spec, view.query))
        # The dialog swaps the form with its errors in (htmx swaps 2xx answers only); a page says 400.
        return self.render(request, form, spec, status=200 if wants_fragment(request) else 400)

    def render(self, request: HttpRequest, form: Any, spec: ListSpec, *, status: int = 200) -> HttpResponse:
        query = form["query"].value() or ""
        context = {
            "form": form,
            "spec": spec,
            "action": reverse("core:saved_view_create"),
            "cancel_url": list_url(spec, normalize_query(spec, query)),
            "in_dialog": wants_fragment(request),
        }
        return render_page(
            request, TEMPLATES + "saved_view_form.html", context, fragment=TEMPLATES + "_form.html", status=status
        )


class SavedViewApplyView(LoginRequiredMixin, View):
    """Open the view's list with its filters and sort, and its columns chosen."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = selectors.saved_view_get(user=request.user, pk=pk)
        if view is None or get_list(view.list_key) is None:
            raise Http404
        return HttpResponseRedirect(
            services.saved_view_apply(user=request.user, saved_view=view, session=request.session)
        )


class SavedViewListView(LoginRequiredMixin, View):
    """The user's views (to rename, share or delete) and those their teams share (``?list=`` one list)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        spec = get_list(request.GET.get("list"))
        key = spec.key if spec is not None else None
        lists = {item.key: item for item in registered_lists() if access.can(request.user, item.module, "view")}
        views = [v for v in selectors.saved_view_list(user=request.user, list_key=key) if v.list_key in lists]
        for view in views:
            view.list_label = lists[view.list_key].label  # type: ignore[attr-defined]
        context = {
            "spec": spec,
            "own": [v for v in views if v.owner_id == request.user.pk],
            "shared": [v for v in views if v.owner_id != request.user.pk],
        }
        return render_page(request, TEMPLATES + "saved_view_list.html", context)


class SavedViewEditView(LoginRequiredMixin, View):
    """Rename one of one's views, share it with a team or make it private again."""

    def get_view(self, request: HttpRequest, pk: int) -> Any:
        view = selectors.saved_view_owned_get(user=request.user, pk=pk)
        if view is None:
            raise Http404
        return view

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = self.get_view(request, pk)
        form = SavedViewForm(user=request.user, initial={"name": view.name, "team": view.team_id})
        return self.render(request, form, view)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = self.get_view(request, pk)
        form = SavedViewForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.saved_view_update(
                    actor=request.user, saved_view=view, name=form.cleaned_data["name"], team=form.cleaned_data["team"]
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("The view was saved."))
                return HttpResponseRedirect(_safe_next(request, _manage_url(view.list_key)))
        view.refresh_from_db()
        return self.render(request, form, view, status=400)

    def render(self, request: HttpRequest, form: Any, view: Any, *, status: int = 200) -> HttpResponse:
        spec = get_list(view.list_key)
        context = {
            "form": form,
            "object": view,
            "spec": spec,
            "action": reverse("core:saved_view_edit", args=[view.pk]),
            "cancel_url": _manage_url(view.list_key),
            "in_dialog": False,
        }
        return render_page(request, TEMPLATES + "saved_view_form.html", context, status=status)


class SavedViewDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = selectors.saved_view_owned_get(user=request.user, pk=pk)
        if view is None:
            raise Http404
        services.saved_view_delete(actor=request.user, saved_view=view)
        messages.success(request, _("The view “%(name)s” was deleted.") % {"name": view.name})
        return HttpResponseRedirect(_safe_next(request, _manage_url(view.list_key)))
