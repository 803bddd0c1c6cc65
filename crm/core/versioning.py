"""Optimistic concurrency: an edit names the version it started from; a stale edit is refused."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import F

from .exceptions import ConflictError


def save_versioned(instance: Any, *, expected_version: int | None, update_fields: Iterable[str] | None = None) -> Any:
    """Save ``instance`` (a VersionedModel) if its row is still at ``expected_version``.

    The version bump and the save happen in one transaction; the UPDATE holds the row lock, so of two
    concurrent editors of the same version exactly one wins and the other gets ``ConflictError``.
    ``expected_version=None`` means the caller did not load the row for editing (a task, a bulk action).
    """
    model: type[models.Model] = type(instance)
    with transaction.atomic():
        rows = model._base_manager.filter(pk=instance.pk)
        if expected_version is not None:
            rows = rows.filter(version=expected_version)
        # A plain QuerySet.update (not journaled): the version is bookkeeping, not customer data.
        bumped = models.QuerySet.update(rows, version=F("version") + 1)
        if bumped == 0:
            raise ConflictError(current=model._base_manager.filter(pk=instance.pk).first())
        instance.version = model._base_manager.filter(pk=instance.pk).values_list("version", flat=True).get()
        fields = None if update_fields is None else [*update_fields, "version", "updated_at"]
        instance.full_clean(exclude=_unchecked(instance, fields))
        instance.save(update_fields=fields)
    return instance


def _unchecked(instance: Any, fields: list[str] | None) -> list[str]:
    if fields is None:
        return []
    return [f.name for f in instance._meta.fields if f.name not in fields]
