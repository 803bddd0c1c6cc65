"""Every write of attachments: upload, delete, move to another record. Keyword-only, permission-checked
(``edit`` on the record's module, the record in the actor's edit scope), journaled (the model is
registered with the journal by core).

An upload is checked whole before anything is stored (``filetypes.inspect``: size, type by content,
extension agreeing with it); the file goes to ``default_storage`` (through the ``FileField``) under a
random name, then its row is written. Several files are all stored or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from .. import access
from ..models import Attachment
from ..registry import AttachmentTarget, platform
from . import filetypes

MAX_FILES = 10  # files in one upload


@dataclass
class FileOutcome:
    """What became of one file of an upload: stored (``attachment``) or refused (``errors``)."""

    name: str
    errors: list[str] = field(default_factory=list)
    attachment: Attachment | None = None


class UploadRefused(ValidationError):
    """At least one file of an upload was refused, so none was stored. ``outcomes`` says, per file,
    what was wrong (or that it was fine but held back)."""

    def __init__(self, outcomes: list[FileOutcome]) -> None:
        self.outcomes = outcomes
        messages = [message for outcome in outcomes for message in outcome.errors]
        super().__init__({"file": messages})


def held_message(name: str) -> str:
    return _("“%(name)s” was not uploaded, because another file was refused.") % {"name": name}


def _target(obj: models.Model) -> AttachmentTarget:
    target = platform.attachment_target(obj)
    if target is None:
        raise ValidationError(
            {"record_type": _("Files cannot be attached to %(kind)s.") % {"kind": obj._meta.verbose_name_plural}}
        )
    return target


def _require_edit(actor: Any, obj: models.Model) -> AttachmentTarget:
    target = _target(obj)
    if not access.can(actor, target.module, "edit"):
        raise PermissionDenied
    if not target.model.objects.visible_to(actor, action="edit").filter(pk=obj.pk).exists():
        raise PermissionDenied
    return target


def attachment_upload(*, actor: Any, obj: models.Model, file: Any, name: str | None = None) -> Attachment:
    """Attach one file to ``obj``. A refused file raises ``UploadRefused`` (a ``ValidationError`` on
    ``file``) and nothing is stored."""
    return attachments_upload(actor=actor, obj=obj, files=[file], names=[name] if name is not None else None)[0]


def attachments_upload(
    *, actor: Any, obj: models.Model, files: Sequence[Any], names: Sequence[str | None] | None = None
) -> list[Attachment]:
    """Attach several files to ``obj``: every file is checked first; if any is refused, none is stored
    and ``UploadRefused`` says what was wrong with each."""
    _require_edit(actor, obj)
    if not files:
        raise ValidationError({"file": _("Choose a file to upload.")})
    if len(files) > MAX_FILES:
        raise ValidationError({"file": _("Upload at most %(count)d files at once.") % {"count": MAX_FILES}})
    given_names = list(names) if names is not None else [None] * len(files)
    checked: list[filetypes.Inspected] = []
    outcomes: list[FileOutcome] = []
    for upload, given in zip(files, given_names, strict=True):
        raw_name = given if given is not None else getattr(upload, "name", "")
        outcome = FileOutcome(name=filetypes.clean_name(raw_name) or str(raw_name or "")[:100])
        outcomes.append(outcome)
        try:
            checked.append(filetypes.inspect(upload, name=raw_name))
        except ValidationError as exc:
            outcome.errors.extend(exc.messages)
    if any(outcome.errors for outcome in outcomes):
        for outcome in outcomes:
            if not outcome.errors:
                outcome.errors.append(held_message(outcome.name))
        raise UploadRefused(outcomes)
    return _store(actor=actor, obj=obj, files=files, checked=checked, outcomes=outcomes)


def _store(
    *,
    actor: Any,
    obj: models.Model,
    files: Sequence[Any],
    checked: list[filetypes.Inspected],
    outcomes: list[FileOutcome],
) -> list[Attachment]:
    content_type = ContentType.objects.get_for_model(obj)
    stored: list[Attachment] = []
    try:
        for upload, inspected in zip(files, checked, strict=True):
            attachment = Attachment(
                content_type=content_type,
                object_id=obj.pk,
                name=inspected.name,
                mime_type=inspected.kind.mime_type,
                size=inspected.size,
                sha256=inspected.sha256,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            _rewind(upload)
            attachment.file.save(inspected.name, upload, save=False)  # a random name (attachment_path)
            stored.append(attachment)
        with transaction.atomic():
            for attachment in stored:
                attachment.save()
    except BaseException:
        for attachment in stored:
            if attachment.file.name:
                attachment.file.storage.delete(attachment.file.name)
        raise
    for outcome, attachment in zip(outcomes, stored, strict=True):
        outcome.attachment = attachment
    return stored


def _rewind(upload: Any) -> None:
    inner = getattr(upload, "file", None)
    (inner if inner is not None else upload).seek(0)


@transaction.atomic
def attachment_delete(*, actor: Any, attachment: Attachment) -> None:
    """Delete one attachment; its file leaves storage once the transaction commits."""
    record = _record_of(attachment)
    if record is None:
        raise PermissionDenied
    _require_edit(actor, record)
    attachment.delete()


@transaction.atomic
def attachments_move(*, actor: Any, source: models.Model, target: models.Model) -> int:
    """Move every attachment of ``source`` to ``target`` (e.g. before merging two records), journaled
    row by row. Both records must take attachments and be editable by the actor."""
    _require_edit(actor, source)
    _require_edit(actor, target)
    source_type = ContentType.objects.get_for_model(source)
    target_type = ContentType.objects.get_for_model(target)
    moved = 0
    for attachment in Attachment.objects.filter(content_type=source_type, object_id=source.pk):
        attachment.content_type = target_type
        attachment.object_id = target.pk
        attachment.save(update_fields=["content_type", "object_id"])
        moved += 1
    return moved


def _record_of(attachment: Attachment) -> models.Model | None:
    record = getattr(attachment, "record", None)
    if record is not None:
        return record  # type: ignore[no-any-return]
    model = ContentType.objects.get_for_id(attachment.content_type_id).model_class()
    if model is None or platform.attachment_target(model) is None:
        return None
    found: models.Model | None = model._default_manager.filter(pk=attachment.object_id).first()
    return found
