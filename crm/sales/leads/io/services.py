"""Starting a lead import: permission-checked, the mapping validated, the job queued on commit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.models import Job
from crm.core.services import job_start
from crm.customers.io.reading import FileInfo

from .mapping import mapping_problems
from .tasks import LEAD_IMPORT, lead_import_task

MODULE = "sales"


@transaction.atomic
def lead_import_start(
    *, actor: Any, path: str, file_name: str, info: FileInfo, mapping: list[str], has_header: bool
) -> Job:
    """Queue the import of an uploaded CSV or XLSX file (already stored at ``path``) as leads."""
    if not access.can(actor, MODULE, "create"):
        raise PermissionDenied
    if info.kind not in ("csv", "xlsx"):
        raise ValidationError({"file": _("Only CSV and XLSX files can be imported as leads.")})
    problems = mapping_problems(mapping)
    if problems:
        raise ValidationError({"mapping": problems})
    params = {
        "path": path,
        "file_name": file_name[:200],
        "file": info.as_params(),
        "mapping": list(mapping),
        "has_header": has_header,
    }
    return job_start(kind=LEAD_IMPORT, user=actor, task=lead_import_task, params=params)
