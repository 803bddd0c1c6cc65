"""Starting import and export jobs: permission-checked, validated, queued on commit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.models import Job
from crm.core.services import job_start

from .exporting import FORMATS, MODELS, ExportError, ExportSpec, clean_filters, export_queryset
from .importing import DUPLICATE_POLICIES
from .mapping import mapping_problems
from .reading import FileInfo
from .tasks import (
    COMPANY_EXPORT,
    CONTACT_EXPORT,
    CONTACT_IMPORT,
    CONTACT_VCARD_IMPORT,
    contact_import_task,
    customer_export_task,
)

MODULE = "customers"


def _check_import(actor: Any, duplicates: str) -> None:
    if not access.can(actor, MODULE, "create"):
        raise PermissionDenied
    if duplicates not in DUPLICATE_POLICIES:
        raise ValidationError({"duplicates": _("Choose what to do with duplicates: skip, update or create.")})
    if duplicates == "update" and not access.can(actor, MODULE, "edit"):
        raise ValidationError(
            {"duplicates": _("Your role may not edit contacts: choose to skip duplicates or to create them.")}
        )


@transaction.atomic
def contact_import_start(
    *,
    actor: Any,
    path: str,
    file_name: str,
    info: FileInfo,
    mapping: list[str],
    has_header: bool,
    duplicates: str,
) -> Job:
    """Queue the import of an uploaded CSV, XLSX or vCard file (already stored at ``path``)."""
    _check_import(actor, duplicates)
    if info.kind != "vcard":
        problems = mapping_problems(mapping)
        if problems:
            raise ValidationError({"mapping": problems})
    kind = CONTACT_VCARD_IMPORT if info.kind == "vcard" else CONTACT_IMPORT
    params = {
        "path": path,
        "file_name": file_name[:200],
        "file": info.as_params(),
        "mapping": mapping if info.kind != "vcard" else [],
        "has_header": has_header,
        "duplicates": duplicates,
    }
    return job_start(kind=kind, user=actor, task=contact_import_task, params=params)


@transaction.atomic
def customer_export_start(*, actor: Any, model: str, fmt: str, filters: Any) -> Job:
    """Queue an export of the contacts or companies ``actor`` may see, filtered like the list."""
    if not access.can(actor, MODULE, "export"):
        raise PermissionDenied
    if model not in MODELS:
        raise ValidationError({"model": _("Choose contacts or companies.")})
    if fmt not in FORMATS or (fmt == "vcf" and model != "contacts"):
        raise ValidationError({"format": _("Choose CSV or XLSX (vCard for contacts).")})
    spec = ExportSpec(model=model, fmt=fmt, filters=clean_filters(model, filters))
    try:
        export_queryset(user=actor, spec=spec)
    except ExportError as exc:
        raise ValidationError({"filters": str(exc)}) from None
    kind = CONTACT_EXPORT if model == "contacts" else COMPANY_EXPORT
    params = {"model": model, "format": fmt, "filters": spec.filters}
    return job_start(kind=kind, user=actor, task=customer_export_task, params=params)
