"""The "Files" box of a record's 360 page, for any model that takes attachments.

A module registers the model and the panel::

    platform.register_attachments(Deal, module="sales")
    platform.register_panel(attachments_panel(module="sales", models=("sales.deal",)))
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse

from .. import access
from ..models import Attachment
from ..registry import RecordPanel, platform
from . import filetypes, selectors
from .services import MAX_FILES, FileOutcome

SHOWN = 100  # rows on the panel; a record with more is rare (the API lists them all)
TEMPLATE = "core/attachments/panel.html"
BODY_TEMPLATE = "core/attachments/_panel_body.html"


def attachments_panel(
    *, module: str, models: tuple[str, ...], key: str = "", order: int = 50, column: str = "side"
) -> RecordPanel:
    """The panel of files for the 360 pages of ``models`` (each registered with ``register_attachments``)."""
    return RecordPanel(
        key=key or f"attachments-{module}",
        template=TEMPLATE,
        module=module,
        models=models,
        context=panel_context,
        order=order,
        column=column,
    )


def element_id(obj: models.Model) -> str:
    return f"attachments-{obj._meta.app_label}-{obj._meta.model_name}-{obj.pk}"


def panel_context(*, user: Any, obj: models.Model, outcomes: list[FileOutcome] | None = None) -> dict[str, Any] | None:
    """The panel's context for a record the user can see, or ``None`` when it takes no attachments
    (or the user may not view its module)."""
    target = platform.attachment_target(obj)
    if target is None or not access.can(user, target.module, "view"):
        return None
    rows = list(selectors.record_attachments(obj)[: SHOWN + 1])
    label = target.label
    return {
        "attachments": [_row(attachment) for attachment in rows[:SHOWN]],
        "attachments_more": len(rows) > SHOWN,
        "attachments_id": element_id(obj),
        "attachments_record": obj,
        "attachments_panel_url": reverse("core:attachment_panel", args=[label, obj.pk]),
        "attachments_upload_url": reverse("core:attachment_upload", args=[label, obj.pk]),
        "attachments_can_edit": access.can(user, target.module, "edit"),
        "attachments_accept": ",".join(filetypes.ACCEPTED_EXTENSIONS),
        "attachments_max_bytes": filetypes.max_bytes(),
        "attachments_max_files": MAX_FILES,
        "attachments_outcomes": outcomes or [],
        "attachments_refused": any(outcome.errors for outcome in outcomes or []),
    }


def _row(attachment: Attachment) -> dict[str, Any]:
    kind = filetypes.kind_for_mime(attachment.mime_type)
    preview = kind is not None and kind.preview
    return {
        "object": attachment,
        "icon": kind.icon if kind else filetypes.DEFAULT_ICON,
        "is_image": preview and attachment.mime_type.startswith("image/"),
        "download_url": reverse("core:attachment_download", args=[attachment.pk]),
        "preview_url": reverse("core:attachment_preview", args=[attachment.pk]) if preview else "",
        "delete_url": reverse("core:attachment_delete", args=[attachment.pk]),
    }
