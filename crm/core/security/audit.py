"""Exports in the audit log: who exported what (the model and the filters) and how many rows, as a
journal entry with the action "export", next to the changes of the same people."""

from __future__ import annotations

from typing import Any

from django.db import models

from .. import journal
from ..choices import JournalAction


def record_export(
    *,
    model: type[models.Model],
    fmt: str,
    rows: int,
    filters: dict[str, Any] | None = None,
    object_id: Any = "",
    label: str = "",
) -> None:
    """Record one export of ``model``. ``object_id`` names what was exported: the job that wrote the
    file, or the record itself when one record was exported."""
    values = {
        "model": model._meta.label_lower,
        "format": fmt,
        "rows": rows,
        "filters": {str(k): journal.to_json(v) for k, v in sorted((filters or {}).items())},
    }
    # The shape of a created record's entry (no old value, the new one), which every reader of the
    # journal already shows.
    changes = {name: [None, value] for name, value in values.items()}
    repr_ = label or str(model._meta.verbose_name_plural)
    journal.record_event(model, object_id, repr_, JournalAction.EXPORT, changes)
