"""Pages of attachments: the panel (refreshed by htmx), upload, download, preview and delete.

Every view finds the record through ``selectors`` first: a record (or attachment) the user may not
see answers 404, whatever the URL names. Writes go through ``services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from .. import access
from ..htmx import wants_fragment
from ..models import Attachment
from . import panels, responses, selectors, services, uploads
from .services import FileOutcome


def _record(request: HttpRequest, record_type: str, record_id: int) -> models.Model:
    record = selectors.record_get(user=request.user, record_type=record_type, record_id=record_id)
    if record is None:
        raise Http404
    return record


def _attachment(request: HttpRequest, pk: int) -> Attachment:
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    if attachment is None:
        raise Http404
    return attachment


def _record_url(record: models.Model) -> str:
    get_url = getattr(record, "get_absolute_url", None)
    return str(get_url()) if callable(get_url) else "/"


def _panel(request: HttpRequest, record: models.Model, outcomes: list[FileOutcome] | None = None) -> HttpResponse:
    context = panels.panel_context(user=request.user, obj=record, outcomes=outcomes)
    if context is None:
        raise Http404
    return render(request, panels.BODY_TEMPLATE, {"object": record, **context})


class AttachmentPanelView(LoginRequiredMixin, View):
    """The panel's body, for htmx to refresh."""

    def get(self, request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
        return _panel(request, _record(request, record_type, record_id))


class AttachmentUploadView(LoginRequiredMixin, View):
    """One or more files (field ``files``) for one record: all are stored, or none, with a message
    for each refused file."""

    def post(self, request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
        record = _record(request, record_type, record_id)
        target = selectors.attachment_target(record)
        if target is None or not access.can(request.user, target.module, "edit"):
            raise PermissionDenied
        outcomes = self._upload(request, record)
        if wants_fragment(request):
            return _panel(request, record, outcomes)
        refused = [message for outcome in outcomes for message in outcome.errors]
        for message in refused:
            messages.error(request, message)
        if not refused:
            messages.success(
                request,
                ngettext("%(count)d file attached.", "%(count)d files attached.", len(outcomes))
                % {"count": len(outcomes)},
            )
        return HttpResponseRedirect(_record_url(record))

    def _upload(self, request: HttpRequest, record: models.Model) -> list[FileOutcome]:
        files = request.FILES.getlist("files")
        refusal = uploads.refusal(request)
        if refusal is not None:
            return uploads.refused_outcomes(refusal, files)
        if not files:
            return [FileOutcome(name="", errors=[_("Choose a file to upload.")])]
        try:
            services.attachments_upload(actor=request.user, obj=record, files=files)
        except services.UploadRefused as exc:
            return exc.outcomes
        except ValidationError as exc:
            return [FileOutcome(name="", errors=exc.messages)]
        return [FileOutcome(name=str(upload.name)) for upload in files]


class AttachmentDownloadView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return responses.file_response(_attachment(request, pk), inline=False)


class AttachmentPreviewView(LoginRequiredMixin, View):
    """Images and PDF, shown by the browser in a sandbox; other types answer 404 (download them)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return responses.file_response(_attachment(request, pk), inline=True)


class AttachmentDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        attachment = _attachment(request, pk)
        record: models.Model = attachment.record  # type: ignore[attr-defined]
        services.attachment_delete(actor=request.user, attachment=attachment)
        if wants_fragment(request):
            return _panel(request, record)
        messages.success(request, _("“%(name)s” was deleted.") % {"name": attachment.name})
        return HttpResponseRedirect(_record_url(record))
