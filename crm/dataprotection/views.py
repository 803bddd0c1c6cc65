"""Pages of privacy requests (Settings → Privacy requests): the list, a new request, a request's page
with its export, erasure or correction, and the export's download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.core import access
from crm.core.pagination import paginate
from crm.core.privacy import privacy
from crm.core.views.generic import ModuleAccessMixin

from . import selectors, services
from .choices import RequestKind, RequestStatus
from .forms import RequestCloseForm, RequestCreateForm, RequestFilterForm
from .models import PrivacyRequest

MODULE = selectors.MODULE
TEMPLATES = "dataprotection/"


def _get(request: HttpRequest, pk: int, action: str = "view") -> PrivacyRequest:
    try:
        return selectors.privacy_request_get(user=request.user, pk=pk, action=action)
    except PrivacyRequest.DoesNotExist as exc:
        raise Http404 from exc


class RequestListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        requests = selectors.privacy_request_list(user=request.user)
        form = RequestFilterForm(request.GET or None)
        if form.is_valid():
            if form.cleaned_data["status"]:
                requests = requests.filter(status=form.cleaned_data["status"])
            if form.cleaned_data["kind"]:
                requests = requests.filter(kind=form.cleaned_data["kind"])
        page = paginate(request, requests.order_by("-created_at", "-id"))
        context = {
            "page": page,
            "form": form,
            "can_create": access.can(request.user, MODULE, "create"),
            "filtered": bool(request.GET.get("status") or request.GET.get("kind")),
        }
        return render(request, TEMPLATES + "request_list.html", context)


class RequestCreateView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "create"

    def render(self, request: HttpRequest, form: RequestCreateForm, *, status: int = 200) -> HttpResponse:
        query = request.GET.get("q", "").strip()[:200]
        chosen = selectors.subject_from_key(request.GET.get("subject") or form["subject"].value() or "")
        context = {
            "form": form,
            "query": query,
            "results": [
                (kind, privacy.subjects[kind].label, obj) for kind, obj in selectors.subject_search(query=query)
            ],
            "chosen": chosen,
            "chosen_label": privacy.subjects[chosen[0]].label if chosen else "",
        }
        return render(request, TEMPLATES + "request_form.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"kind": request.GET.get("kind") or RequestKind.EXPORT, "subject": request.GET.get("subject", "")}
        return self.render(request, RequestCreateForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RequestCreateForm(request.POST)
        if form.is_valid():
            chosen = selectors.subject_from_key(form.cleaned_data["subject"])
            if chosen is None:
                form.add_error(None, _("Choose the person the request is about."))
            else:
                try:
                    created = services.privacy_request_create(
                        actor=request.user,
                        kind=form.cleaned_data["kind"],
                        subject_kind=chosen[0],
                        subject_id=chosen[1].pk,
                        notes=form.cleaned_data["notes"],
                    )
                except ValidationError as exc:
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    messages.success(request, _("Request recorded. It is due in 30 days."))
                    return HttpResponseRedirect(created.get_absolute_url())
        return self.render(request, form, status=400)


class RequestDetailView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        privacy_request = _get(request, pk)
        user = request.user
        subject = privacy.subjects.get(privacy_request.subject_kind)
        is_correction = privacy_request.kind == RequestKind.CORRECT
        job = privacy_request.job
        context = {
            "object": privacy_request,
            "subject_label": subject.label if subject else privacy_request.subject_kind,
            "job": job,
            "now": timezone.now(),
            "can_start": privacy_request.kind != RequestKind.CORRECT
            and access.can(user, MODULE, "export" if privacy_request.kind == RequestKind.EXPORT else "edit")
            and privacy_request.status in (RequestStatus.OPEN, RequestStatus.FAILED)
            and (job is None or job.is_finished),
            "can_download": privacy_request.kind == RequestKind.EXPORT
            and job is not None
            and bool(job.result_file)
            and job.created_by_id == user.pk,
            "records": selectors.subject_records(request=privacy_request) if is_correction else [],
            "corrections": list(selectors.corrections_since(request=privacy_request)[:50]) if is_correction else [],
            "close_form": RequestCloseForm()
            if is_correction and privacy_request.status != RequestStatus.DONE and access.can(user, MODULE, "edit")
            else None,
        }
        return render(request, TEMPLATES + "request_detail.html", context)


class RequestStartView(ModuleAccessMixin, View):
    """Start the export or the erasure; after a failure, resume it."""

    module = MODULE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        privacy_request = _get(request, pk)
        try:
            services.privacy_request_start(actor=request.user, request=privacy_request)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Started. This page shows the progress."))
        return HttpResponseRedirect(privacy_request.get_absolute_url())


class RequestCloseView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        privacy_request = _get(request, pk)
        form = RequestCloseForm(request.POST)
        notes = form.data.get("notes", "")
        try:
            services.privacy_request_close(actor=request.user, request=privacy_request, notes=str(notes))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Request closed."))
        return HttpResponseRedirect(privacy_request.get_absolute_url())


class RequestDownloadView(ModuleAccessMixin, View):
    """The export's ZIP, for the person who ran the export only."""

    module = MODULE
    permission_action = "export"

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        privacy_request = _get(request, pk)
        job = privacy_request.job
        if privacy_request.kind != RequestKind.EXPORT or job is None or not job.result_file:
            raise Http404
        if job.created_by_id != request.user.pk:
            raise Http404
        services.privacy_request_record_download(actor=request.user, request=privacy_request)
        return FileResponse(
            job.result_file.open("rb"), as_attachment=True, filename=str(job.result_file.name).rsplit("/", 1)[-1]
        )
