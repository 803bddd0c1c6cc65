"""Every read of attachments. An attachment is visible exactly when its record is: the record's model
is registered (``platform.register_attachments``), the user may view its module, and the record is
in ``Model.objects.visible_to(user)``. Anything else reads as absent (callers answer 404)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from .. import access
from ..models import Attachment
from ..registry import AttachmentTarget, platform


def attachment_target(model_or_label: Any) -> AttachmentTarget | None:
    return platform.attachment_target(model_or_label)


def record_get(*, user: Any, record_type: str, record_id: Any, action: str = "view") -> models.Model | None:
    """The record ``record_type`` (``"customers.contact"``) and ``record_id`` name, if it takes
    attachments and the user may ``action`` it."""
    target = platform.attachment_target(str(record_type))
    if target is None or not access.can(user, target.module, action):
        return None
    try:
        pk = int(str(record_id))
    except ValueError:
        return None
    if pk <= 0:
        return None
    record: models.Model | None = target.model.objects.visible_to(user, action=action).filter(pk=pk).first()
    return record


def record_visible(*, user: Any, obj: models.Model, action: str = "view") -> bool:
    target = platform.attachment_target(obj)
    if target is None or not access.can(user, target.module, action):
        return False
    return bool(target.model.objects.visible_to(user, action=action).filter(pk=obj.pk).exists())


def attachment_list(*, user: Any, obj: models.Model) -> QuerySet[Attachment]:
    """The attachments of one record, newest first (none when the user cannot see the record)."""
    if not record_visible(user=user, obj=obj):
        return Attachment.objects.none()
    return record_attachments(obj)


def record_attachments(obj: models.Model) -> QuerySet[Attachment]:
    """The attachments of a record the caller already knows the user may see."""
    content_type = ContentType.objects.get_for_model(obj)
    return (
        Attachment.objects.filter(content_type=content_type, object_id=obj.pk)
        .select_related("uploaded_by")
        .order_by("-created_at", "-id")
    )


def attachments_visible_to(user: Any) -> QuerySet[Attachment]:
    """Every attachment of every record the user may see, across the registered models."""
    condition: Q | None = None
    for target in platform.attachments.values():
        if not access.can(user, target.module, "view"):
            continue
        content_type = ContentType.objects.get_for_model(target.model)
        if access.scope_filter(target.model, user) is None or not getattr(target.model, "access_data_scoped", True):
            part = Q(content_type=content_type)  # every record of the kind (their files go with them)
        else:
            records = target.model.objects.visible_to(user).values("pk")
            part = Q(content_type=content_type, object_id__in=records)
        condition = part if condition is None else condition | part
    if condition is None:
        return Attachment.objects.none()
    return Attachment.objects.filter(condition).select_related("uploaded_by")


def attachment_get(*, user: Any, pk: Any, action: str = "view") -> Attachment | None:
    """One attachment, if the user may ``action`` its record (the record is kept on ``.record``)."""
    try:
        attachment_id = int(str(pk))
    except ValueError:
        return None
    attachment = Attachment.objects.select_related("uploaded_by").filter(pk=attachment_id).first()
    if attachment is None:
        return None
    content_type = ContentType.objects.get_for_id(attachment.content_type_id)
    record = record_get(
        user=user,
        record_type=f"{content_type.app_label}.{content_type.model}",
        record_id=attachment.object_id,
        action=action,
    )
    if record is None:
        return None
    attachment.record = record  # type: ignore[attr-defined]
    return attachment


def record_type_of(attachment: Attachment) -> str:
    content_type = ContentType.objects.get_for_id(attachment.content_type_id)
    return f"{content_type.app_label}.{content_type.model}"
