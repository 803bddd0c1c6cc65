"""The platform's own pages: dashboard, global search, notifications, jobs, audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from .. import access, journal_display, selectors, services
from ..filtersets import JournalEntryFilterSet
from ..htmx import render_page
from ..pagination import keyset_paginate, paginate
from ..registry import platform
from ..tasks import AUDIT_EXPORT, audit_export_task
from .generic import ModuleAccessMixin


class DashboardView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        widgets = []
        for widget in sorted(platform.dashboard.values(), key=lambda w: w.order):
            if access.can(request.user, widget.module, "view"):
                widgets.append({"template": widget.template, **widget.context(user=request.user)})
        context = {
            "widgets": widgets,
            "recent_jobs": selectors.job_list(user=request.user)[:5],
            "unread": selectors.notification_unread_count(user=request.user),
        }
        return render(request, "core/dashboard.html", context)


class SearchView(LoginRequiredMixin, View):
    """The header's search box: a dropdown fragment for htmx, a full page otherwise."""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q", "")[:200]
        groups = selectors.search(user=request.user, query=query)
        return render_page(
            request,
            "core/search.html",
            {"query": query, "groups": groups},
            fragment="core/partials/_search_results.html",
        )


class NotificationListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        notifications = selectors.notification_list(user=request.user)
        if getattr(request, "htmx", False):
            return render(
                request,
                "core/partials/_notifications.html",
                {"notifications": notifications[:8], "unread": selectors.notification_unread_count(user=request.user)},
            )
        page = paginate(request, notifications, per_page=25)
        return render(request, "core/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    services.notification_mark_read(user=request.user, notification_id=pk)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("core:notification_list")
    return HttpResponseRedirect(target)


class JobDetailView(LoginRequiredMixin, View):
    """A job's page; with htmx, the progress fragment that polls itself until the job ends."""

    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        job = selectors.job_get(user=request.user, job_id=pk)
        if job is None:
            raise Http404
        return render_page(request, "core/job_detail.html", {"job": job}, fragment="core/partials/_job_progress.html")


class JobDownloadView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: str) -> FileResponse:
        job = selectors.job_get(user=request.user, job_id=pk)
        if job is None or not job.result_file:
            raise Http404
        return FileResponse(
            job.result_file.open("rb"), as_attachment=True, filename=str(job.result_file.name).rsplit("/", 1)[-1]
        )


class AuditLogView(ModuleAccessMixin, View):
    module = "audit"

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = JournalEntryFilterSet(request.GET or None, queryset=selectors.journal_list(user=request.user))
        entries = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        page = keyset_paginate(request, entries, ordering=("-timestamp", "-id"), per_page=50)
        page.object_list = journal_display.describe(page.object_list)
        context: dict[str, Any] = {
            "filterset": filterset,
            "page": page,
            "can_export": access.can(request.user, "audit", "export"),
            "querystring": request.GET.urlencode(),
        }
        return render_page(request, "core/audit_log.html", context, fragment="core/partials/_audit_rows.html")


class AuditLogExportView(ModuleAccessMixin, View):
    module = "audit"
    permission_action = "export"

    def post(self, request: HttpRequest) -> HttpResponse:
        filterset = JournalEntryFilterSet(request.POST, queryset=selectors.journal_list(user=request.user))
        if not filterset.is_valid():
            messages.error(request, _("The filters are not valid."))
            return HttpResponseRedirect(reverse("core:audit_log"))
        filters = {k: v for k, v in request.POST.items() if k in filterset.filters and v}
        job = services.job_start(
            kind=AUDIT_EXPORT, user=request.user, task=audit_export_task, params={"filters": filters}
        )
        return HttpResponseRedirect(reverse("core:job_detail", args=[job.pk]))
