"""Pages of the lead import: upload, map and preview, then the job's progress and summary.

The uploaded file waits in storage as a draft kept in the session, like a contact import's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from crm.core import selectors as core_selectors
from crm.core.htmx import render_page
from crm.core.views.generic import ModuleAccessMixin, apply_validation_error
from crm.customers.io.forms import ImportUploadForm
from crm.customers.io.importing import map_rows
from crm.customers.io.reading import FileInfo, ImportFileError, preview
from crm.customers.io.views import drop_draft, get_draft, mapping_columns, receive_upload
from crm.customers.models.contacts import compose_contact_name
from crm.customers.phones import display_phone

from . import services
from .cleaning import LeadRowCleaner
from .forms import LeadMappingForm
from .mapping import mapping_problems
from .tasks import LEAD_IMPORT

MODULE = "sales"
PREVIEW_ROWS = 10


class LeadImportView(ModuleAccessMixin, View):
    """Step 1: upload a CSV or XLSX file."""

    module = MODULE
    permission_action = "create"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(ImportUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form, status=400)
        token = receive_upload(request, form, preview_rows=PREVIEW_ROWS)  # what the next page shows
        if token is None:
            return self.render(form, status=400)
        return HttpResponseRedirect(reverse("sales:lead_import_map", args=[token]))

    def render(self, form: Any, *, status: int = 200) -> HttpResponse:
        return render(self.request, "sales/leads/io/lead_import.html", {"form": form}, status=status)


class LeadImportMapView(ModuleAccessMixin, View):
    """Step 2: map the columns and see the first rows with their problems; start the import."""

    module = MODULE
    permission_action = "create"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        draft = get_draft(request, token)
        header, rows = self._read(draft)
        return self.render(token, draft, LeadMappingForm(header=header), rows)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        draft = get_draft(request, token)
        header, rows = self._read(draft)
        form = LeadMappingForm(request.POST, header=header)
        if form.is_valid():
            try:
                job = services.lead_import_start(
                    actor=request.user,
                    path=draft["path"],
                    file_name=draft["name"],
                    info=FileInfo.from_params(draft["file"]),
                    mapping=form.mapping(),
                    has_header=bool(draft["has_header"]),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                drop_draft(request, token)
                return HttpResponseRedirect(reverse("sales:lead_import_job", args=[job.pk]))
        return self.render(token, draft, form, rows, status=400)

    def _read(self, draft: dict[str, Any]) -> tuple[list[str], list[tuple[int, list[str]]]]:
        try:
            with default_storage.open(draft["path"], "rb") as handle:
                return preview(
                    handle,
                    FileInfo.from_params(draft["file"]),
                    has_header=bool(draft["has_header"]),
                    limit=PREVIEW_ROWS,
                )
        except ImportFileError:
            raise Http404 from None

    def render(
        self, token: str, draft: dict[str, Any], form: LeadMappingForm, rows: list[Any], *, status: int = 200
    ) -> HttpResponse:
        context = {
            "token": token,
            "draft": draft,
            "info": FileInfo.from_params(draft["file"]),
            "form": form,
            "columns": mapping_columns(form, rows),  # type: ignore[arg-type]
            "preview": preview_rows(user=self.request.user, header=form.header, rows=rows, form=form),
        }
        return render(self.request, "sales/leads/io/lead_import_map.html", context, status=status)


class LeadImportPreviewView(LeadImportMapView):
    """The preview fragment, refreshed by htmx whenever a column's mapping changes."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        raise Http404

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        draft = get_draft(request, token)
        header, rows = self._read(draft)
        form = LeadMappingForm(request.POST, header=header)
        context = {"preview": preview_rows(user=request.user, header=header, rows=rows, form=form), "form": form}
        return render(request, "sales/leads/io/partials/_import_preview.html", context)


def preview_rows(
    *, user: Any, header: list[str], rows: list[tuple[int, list[str]]], form: LeadMappingForm
) -> list[dict[str, Any]]:
    """The first rows as the import will see them: the values as they will be stored, or the problems."""
    mapping = form.mapping()
    usable = not mapping_problems(mapping)
    cleaner = LeadRowCleaner(user=user)
    result = []
    for row in map_rows(header, rows, mapping):
        lead, problems = None, list(row.problems)
        if usable and not problems:
            _data, lead, problems = cleaner.check(row.values)
        values = row.values
        result.append(
            {
                "row": row,
                "lead": lead,
                "problems": problems,
                "checked": usable,
                "name": lead.name
                if lead is not None
                else (
                    values.get("name") or compose_contact_name("", values.get("first_name"), values.get("last_name"))
                ),
                "email": lead.email if lead is not None else values.get("email", ""),
                "phone": display_phone(lead.phone) if lead is not None and lead.phone else values.get("phone", ""),
                "company": lead.company_name if lead is not None else values.get("company_name", ""),
            }
        )
    return result


class LeadImportJobView(ModuleAccessMixin, View):
    """Step 3: the import's progress, then its summary and the file of rejected rows."""

    module = MODULE

    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        job = core_selectors.job_get(user=request.user, job_id=pk)
        if job is None or job.kind != LEAD_IMPORT:
            raise Http404
        return render_page(
            request,
            "sales/leads/io/lead_import_job.html",
            {"job": job, "summary": _summary(job)},
            fragment="sales/leads/io/partials/_import_summary.html",
        )


def _summary(job: Any) -> dict[str, Any]:
    result = job.result or {}
    error = result.get("file_error") or ""
    if not error and job.error:
        error = job.error.split(": ", 1)[-1] if job.error.startswith(("ImportFileError", "PermissionError")) else ""
    owners = {int(pk): int(count) for pk, count in (result.get("owners") or {}).items()}
    people = get_user_model().objects.in_bulk(list(owners)[:50]) if job.is_finished else {}
    return {
        "created": result.get("created", 0),
        "rejected": result.get("rejected", 0),
        "rows": result.get("rows", 0),
        "file_error": error,
        "file_name": job.params.get("file_name", ""),
        "owners": sorted(
            ((str(people[pk]), count) for pk, count in owners.items() if pk in people), key=lambda item: -item[1]
        ),
    }
