"""Infrastructure that keeps attachments tidy whatever path deletes something (page, API, admin, bulk
delete, merge, task):

- a record of a registered model is deleted -> its attachments are deleted (each journaled);
- an attachment row is deleted -> its file is removed from storage once the transaction commits
  (a rolled-back delete keeps the file).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.signals import post_delete

from ..models import Attachment

logger = logging.getLogger(__name__)


def connect(model: type[models.Model]) -> None:
    """Called by ``platform.register_attachments`` for each registered model (idempotent)."""
    post_delete.connect(
        record_deleted, sender=model, dispatch_uid=f"crm-attachments-{model._meta.label_lower}", weak=False
    )
    post_delete.connect(attachment_deleted, sender=Attachment, dispatch_uid="crm-attachments-file", weak=False)


def record_deleted(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    content_type = ContentType.objects.db_manager(using).get_for_model(sender)
    Attachment.objects.using(using).filter(content_type=content_type, object_id=instance.pk).delete()


def attachment_deleted(sender: type[Attachment], instance: Attachment, using: str, **kwargs: Any) -> None:
    name = instance.file.name
    if name:
        transaction.on_commit(partial(remove_file, instance.file.storage, name), using=using, robust=True)


def remove_file(storage: Any, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # the row is gone either way; a stray file is only wasted space
        logger.exception("Could not remove the attachment file %s from storage", name)
