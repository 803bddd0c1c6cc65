"""The export of everything the CRM holds about one person: a ZIP with ``data.json`` (every
declared module's rows, attachments' details, journal entries), ``summary.html`` (the same, readable)
and the attached files themselves under ``files/``."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from crm.core.crypto import keyring
from crm.core.journal import to_json
from crm.core.models import Attachment
from crm.core.privacy import privacy, row_to_dict

from . import gathering

Progress = Callable[[int, str], None]


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE).strip("._")[:100] or "file"


def export_bundle(*, kind: str, subject_id: int, progress: Progress | None = None) -> tuple[bytes, dict[str, int]]:
    """The ZIP's bytes and the number of rows of each kind it holds."""
    subject = gathering.subject_kind(kind)
    obj = gathering.subject_object(kind, subject_id)
    if obj is None:
        raise LookupError(kind)
    records: dict[str, Any] = {}
    found: dict[str, list[int]] = {}
    declarations = privacy.declarations(kind)
    for index, declaration in enumerate(declarations, start=1):
        rows = list(declaration.find(obj).order_by("pk"))
        found[declaration.key] = [row.pk for row in rows]
        records[declaration.key] = {
            "label": declaration.label,
            "model": declaration.model_label,
            "rows": declaration.export_rows(rows),
        }
        if progress:
            progress(int(60 * index / max(1, len(declarations))), "")
    attachment_ids = gathering.attachment_ids(found)
    attachments = list(Attachment.objects.filter(pk__in=attachment_ids).select_related("content_type").order_by("pk"))
    files = []
    for attachment in attachments:
        files.append(
            {
                "id": attachment.pk,
                "name": attachment.name,
                "mime_type": attachment.mime_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "record": f"{attachment.content_type.app_label}.{attachment.content_type.model}",
                "record_id": attachment.object_id,
                "uploaded_at": to_json(attachment.created_at),
                "path": f"files/{attachment.pk}-{_safe_name(attachment.name)}",
            }
        )
    journal: list[dict[str, Any]] = []
    seen: set[int] = set()
    for entries in gathering.journal_entries(gathering.journal_queries(kind, subject_id, found, attachment_ids)):
        for entry in entries.select_related("content_type").order_by("id"):
            if entry.pk in seen:
                continue
            seen.add(entry.pk)
            journal.append(
                {
                    "sequence": entry.pk,
                    "when": to_json(entry.timestamp),
                    "who": entry.actor_repr,
                    "path": entry.source,
                    "action": entry.action,
                    "record": f"{entry.content_type.app_label}.{entry.content_type.model}",
                    "record_id": entry.object_id,
                    "changes": keyring.opened(entry.changes),  # the person's own values, in clear
                }
            )
    journal.sort(key=lambda item: item["sequence"])
    data = {
        "subject": {"kind": kind, "id": subject_id, "label": str(obj), "record": row_to_dict(obj)},
        "generated_at": to_json(timezone.now()),
        "records": records,
        "attachments": files,
        "journal": journal,
    }
    summary = render_to_string(
        "dataprotection/export_summary.html",
        {
            "subject": subject,
            "person": str(obj),
            "generated_at": timezone.now(),
            "sections": [
                {"label": item["label"], "rows": item["rows"], "columns": list(item["rows"][0]) if item["rows"] else []}
                for item in records.values()
            ],
            "attachments": files,
            "journal": journal,
        },
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("summary.html", summary)
        for attachment, item in zip(attachments, files, strict=True):
            with attachment.file.open("rb") as handle:
                archive.writestr(item["path"], handle.read())
    if progress:
        progress(95, "")
    counts = {key: len(item["rows"]) for key, item in records.items()}
    counts["attachments"] = len(files)
    counts["journal_entries"] = len(journal)
    return buffer.getvalue(), counts
