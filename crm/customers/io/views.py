"""Pages of import (upload, map and preview, summary), export and vCard."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views import View

from crm.core import selectors as core_selectors
from crm.core.htmx import render_page
from crm.core.views.generic import ModuleAccessMixin, apply_validation_error

from .. import selectors
from ..filtersets import CompanyFilterSet, ContactFilterSet
from ..models.contacts import compose_contact_name
from . import services
from .cleaning import CleanRow
from .duplicates import Candidate, company_key, find_companies, find_duplicates
from .exporting import clean_filters
from .forms import ExportForm, ImportUploadForm, MappingForm, VCardUploadForm
from .importing import ContactImporter, map_rows, store_upload
from .mapping import mapping_problems
from .reading import FileInfo, ImportFileError, inspect_file, preview
from .tasks import IMPORT_KINDS

SESSION_KEY = "customers_import_drafts"
MAX_DRAFTS = 5


# --- drafts: an uploaded file waiting for its mapping -----------------------------------------------------


def _drafts(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY) or {})


def save_draft(request: HttpRequest, draft: dict[str, Any]) -> str:
    drafts = _drafts(request)
    while len(drafts) >= MAX_DRAFTS:
        oldest = next(iter(drafts))
        default_storage.delete(drafts.pop(oldest)["path"])
    token = secrets.token_urlsafe(12)
    drafts[token] = draft
    request.session[SESSION_KEY] = drafts
    return token


def get_draft(request: HttpRequest, token: str) -> dict[str, Any]:
    draft = _drafts(request).get(token)
    if draft is None or not default_storage.exists(draft["path"]):
        raise Http404
    return draft


def drop_draft(request: HttpRequest, token: str) -> None:
    drafts = _drafts(request)
    drafts.pop(token, None)
    request.session[SESSION_KEY] = drafts


def store_and_inspect(uploaded: Any, *, expect: str) -> tuple[str, FileInfo]:
    path = store_upload(uploaded)
    try:
        with default_storage.open(path, "rb") as handle:
            info = inspect_file(handle, expect=expect)
    except ImportFileError:
        default_storage.delete(path)
        raise
    return path, info


# --- import -----------------------------------------------------------------------------------------------


def receive_upload(request: HttpRequest, form: Any, *, preview_rows: int = 1) -> str | None:
    """Store a valid upload form's spreadsheet, check that it reads (its first ``preview_rows`` rows),
    and keep it as a draft of this session: the draft's token, or ``None`` with the problem on the
    form's file field (and nothing kept). Every import (contacts, leads) starts here."""
    uploaded = form.cleaned_data["file"]
    has_header = bool(form.cleaned_data["has_header"])
    try:
        path, info = store_and_inspect(uploaded, expect="table")
    except ImportFileError as exc:
        form.add_error("file", str(exc))
        return None
    try:
        with default_storage.open(path, "rb") as handle:
            preview(handle, info, has_header=has_header, limit=preview_rows)
    except ImportFileError as exc:
        default_storage.delete(path)
        form.add_error("file", str(exc))
        return None
    return save_draft(
        request,
        {"path": path, "name": str(uploaded.name)[:200], "file": info.as_params(), "has_header": has_header},
    )


class ContactImportView(ModuleAccessMixin, View):
    """Step 1: upload a CSV or XLSX file."""

    module = "customers"
    permission_action = "create"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(ImportUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form, status=400)
        token = receive_upload(request, form)
        if token is None:
            return self.render(form, status=400)
        return HttpResponseRedirect(reverse("customers:contact_import_map", args=[token]))

    def render(self, form: Any, *, status: int = 200) -> HttpResponse:
        return render(self.request, "customers/io/contact_import.html", {"form": form}, status=status)


class ContactImportMapView(ModuleAccessMixin, View):
    """Step 2: map the columns, see a preview with each row's problems, choose the duplicates policy."""

    module = "customers"
    permission_action = "create"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        draft = get_draft(request, token)
        header, rows = self._read(draft)
        form = MappingForm(header=header)
        return self.render(token, draft, form, rows)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        draft = get_draft(request, token)
        header, rows = self._read(draft)
        form = MappingForm(request.POST, header=header)
        if form.is_valid():
            try:
                job = services.contact_import_start(
                    actor=request.user,
                    path=draft["path"],
                    file_name=draft["name"],
                    info=FileInfo.from_params(draft["file"]),
                    mapping=form.mapping(),
                    has_header=bool(draft["has_header"]),
                    duplicates=form.cleaned_data["duplicates"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                drop_draft(request, token)
                return HttpResponseRedirect(reverse("customers:contact_import_job", args=[job.pk]))
        return self.render(token, draft, form, rows, status=400)

    def _read(self, draft: dict[str, Any]) -> tuple[list[str], list[tuple[int, list[str]]]]:
        try:
            with default_storage.open(draft["path"], "rb") as handle:
                return preview(handle, FileInfo.from_params(draft["file"]), has_header=bool(draft["has_header"]))
        except ImportFileError:
            raise Http404 from None

    def render(
        self, token: str, draft: dict[str, Any], form: MappingForm, rows: list[Any], *, status: int = 200
    ) -> HttpResponse:
        context = {
            "token": token,
            "draft": draft,
            "info": FileInfo.from_params(draft["file"]),
            "form": form,
            "columns": mapping_columns(form, rows),
            "preview": preview_rows(user=self.request.user, header=form.header, rows=rows, form=form),
            "mapping_problems": mapping_problems(form.mapping()),
        }
        return render(self.request, "customers/io/contact_import_map.html", context, status=status)


class ContactImportPreviewView(ContactImportMapView):
    """The preview fragment, refreshed by htmx whenever a column's mapping changes."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        raise Http404

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        draft = get_draft(request, token)
        header, rows = self._read(draft)
        form = MappingForm(request.POST, header=header)
        context = {
            "preview": preview_rows(user=request.user, header=header, rows=rows, form=form),
            "form": form,
            "mapping_problems": mapping_problems(form.mapping()),
            "oob": True,
        }
        return render(request, "customers/io/partials/_import_preview.html", context)


def mapping_columns(form: MappingForm, rows: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
    columns = []
    for index, field in enumerate(form.column_fields()):
        samples = [cells[index] for _n, cells in rows if index < len(cells) and cells[index].strip()][:3]
        columns.append({"field": field, "samples": samples})
    return columns


def preview_rows(
    *, user: Any, header: list[str], rows: list[tuple[int, list[str]]], form: MappingForm
) -> list[dict[str, Any]]:
    """The first rows as the import will see them: the values, the problems, the duplicate found."""
    mapping = form.mapping()
    importer = ContactImporter(user=user, duplicates="skip")
    checked = importer.check(list(map_rows(header, rows, mapping)))
    if mapping_problems(mapping):
        return [
            {"row": row, "clean": None, "problems": [], "match": None, "show": _shown(row, None)}
            for row, _c, _p in checked
        ]
    good: list[CleanRow] = [clean for _row, clean, _p in checked if clean is not None]
    companies = find_companies(user=user, names=[c.company for c in good if c.company])
    matches = iter(
        find_duplicates(
            user=user,
            candidates=[
                Candidate(
                    emails=tuple(e for e, _k in c.emails),
                    phones=tuple(p for p, _k in c.phones),
                    name=c.name,
                    company_id=companies.get(company_key(c.company)) if c.company else None,
                )
                for c in good
            ],
        )
    )
    matched_ids = []
    result: list[dict[str, Any]] = []
    for row, clean, problems in checked:
        match = next(matches) if clean is not None else None
        if match is not None:
            matched_ids.append(match.contact_id)
        result.append({"row": row, "clean": clean, "problems": problems, "match": match, "show": _shown(row, clean)})
    names = dict(selectors.contact_list(user=user).filter(pk__in=matched_ids).values_list("pk", "name"))
    for item in result:
        if item["match"] is not None:
            item["match_name"] = names.get(item["match"].contact_id, "")
    return result


def _shown(row: Any, clean: CleanRow | None) -> dict[str, Any]:
    """What the preview shows of a row: the values as they will be stored, or as typed when rejected."""
    from ..phones import display_phone

    if clean is not None:
        return {
            "name": clean.name,
            "emails": [email for email, _kind in clean.emails],
            "phones": [display_phone(number) for number, _kind in clean.phones],
            "company": clean.company,
        }
    values = row.values
    full = values.get("full_name", "").strip()
    return {
        "name": compose_contact_name(full, values.get("first_name"), values.get("last_name")),
        "emails": [v for v in (values.get("email", ""), values.get("email_other", "")) if v.strip()],
        "phones": [v for v in (values.get(k, "") for k in ("mobile", "phone", "phone_other")) if v.strip()],
        "company": values.get("company", ""),
    }


class ContactImportJobView(ModuleAccessMixin, View):
    """Step 3: the import's progress, then its summary and the file of rejected rows."""

    module = "customers"

    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        job = core_selectors.job_get(user=request.user, job_id=pk)
        if job is None or job.kind not in IMPORT_KINDS:
            raise Http404
        return render_page(
            request,
            "customers/io/contact_import_job.html",
            {"job": job, "summary": _summary(job)},
            fragment="customers/io/partials/_import_summary.html",
        )


def _summary(job: Any) -> dict[str, Any]:
    result = job.result or {}
    error = result.get("file_error") or ""
    if not error and job.error:
        error = job.error.split(": ", 1)[-1] if job.error.startswith(("ImportFileError", "PermissionError")) else ""
    return {
        "created": result.get("created", 0),
        "updated": result.get("updated", 0),
        "unchanged": result.get("unchanged", 0),
        "skipped": result.get("skipped", 0),
        "rejected": result.get("rejected", 0),
        "companies_created": result.get("companies_created", 0),
        "rows": result.get("rows", 0),
        "file_error": error,
        "file_name": job.params.get("file_name", ""),
        "duplicates": job.params.get("duplicates", ""),
    }


class ContactVCardImportView(ModuleAccessMixin, View):
    module = "customers"
    permission_action = "create"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(VCardUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = VCardUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form, status=400)
        uploaded = form.cleaned_data["file"]
        try:
            path, info = store_and_inspect(uploaded, expect="vcard")
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.render(form, status=400)
        try:
            job = services.contact_import_start(
                actor=request.user,
                path=path,
                file_name=str(uploaded.name),
                info=info,
                mapping=[],
                has_header=False,
                duplicates=form.cleaned_data["duplicates"],
            )
        except ValidationError as exc:
            default_storage.delete(path)
            apply_validation_error(form, exc)
            return self.render(form, status=400)
        return HttpResponseRedirect(reverse("customers:contact_import_job", args=[job.pk]))

    def render(self, form: Any, *, status: int = 200) -> HttpResponse:
        return render(self.request, "customers/io/contact_vcard_import.html", {"form": form}, status=status)


# --- export -----------------------------------------------------------------------------------------------


class ExportView(ModuleAccessMixin, View):
    """GET: choose the format (the list's filters come along in the query string); POST: start the job."""

    module = "customers"
    permission_action = "export"
    model = "contacts"
    fmt: str | None = None  # a fixed format (the vCard export)

    def filters(self, data: QueryDict) -> dict[str, str]:
        return clean_filters(self.model, data)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(ExportForm(), self.filters(request.GET))

    def post(self, request: HttpRequest) -> HttpResponse:
        filters = self.filters(request.POST)
        form = ExportForm(request.POST if self.fmt is None else {"format": "csv"})
        if not form.is_valid():
            return self.render(form, filters, status=400)
        try:
            job = services.customer_export_start(
                actor=request.user, model=self.model, fmt=self.fmt or form.cleaned_data["format"], filters=filters
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return self.render(form, filters, status=400)
        return HttpResponseRedirect(reverse("core:job_detail", args=[job.pk]))

    def render(self, form: Any, filters: dict[str, str], *, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "model": self.model,
            "fmt": self.fmt,
            "filters": filters,
            "filter_labels": self.describe(filters),
            "action": self.request.path,
        }
        return render(self.request, "customers/io/export.html", context, status=status)

    def describe(self, filters: dict[str, str]) -> list[tuple[str, str]]:
        """Each filter as the list page shows it: its label, and the chosen option's label."""
        filterset_class = ContactFilterSet if self.model == "contacts" else CompanyFilterSet
        fields = filterset_class(filters, queryset=filterset_class._meta.model.objects.none()).form.fields
        described = []
        for name, value in filters.items():
            field = fields.get(name)
            shown = value
            if isinstance(field, forms.ModelChoiceField):
                with contextlib.suppress(ValidationError):
                    shown = str(field.to_python(value) or value)
            elif isinstance(field, forms.ChoiceField):
                choices: Any = field.choices
                shown = str(dict(choices).get(value, value))
            described.append((str(field.label if field is not None else name), shown))
        return described


class ContactExportView(ExportView):
    model = "contacts"


class CompanyExportView(ExportView):
    model = "companies"


class ContactVCardExportView(ExportView):
    model = "contacts"
    fmt = "vcf"


class ContactVCardView(ModuleAccessMixin, View):
    """One contact as a .vcf file (any contact the person can see)."""

    module = "customers"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from .vcards import contact_vcard

        contact = selectors.contact_detail_queryset(user=request.user).filter(pk=pk).first()
        if contact is None:
            raise Http404
        text = contact_vcard(contact, emails=contact.emails.all(), phones=contact.phones.all())
        from crm.core.security.audit import record_export

        record_export(model=type(contact), fmt="vcf", rows=1, object_id=contact.pk, label=str(contact)[:200])
        response = HttpResponse(text.encode("utf-8"), content_type="text/vcard; charset=utf-8")
        name = (contact.name or "").replace("/", " ").strip() or f"contact-{contact.pk}"
        response["Content-Disposition"] = content_disposition_header(True, f"{name[:80]}.vcf")
        return response
