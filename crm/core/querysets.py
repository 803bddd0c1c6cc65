"""Querysets that keep the platform's promises for bulk operations: scoping and the journal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models, transaction

M = TypeVar("M", bound=models.Model)


class JournaledQuerySet(models.QuerySet[M]):
    """Bulk writes (update, bulk_create, and bulk_update, which Django runs as updates) that record
    each changed row in the journal."""

    def update(self, **kwargs: Any) -> int:
        from . import journal

        if not journal.is_registered(self.model):
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            names = journal.field_names(self.model, list(kwargs))
            before = {row["pk"]: row for row in self.values("pk", *names)}
            count = super().update(**kwargs)
            if before:
                after_rows = self.model._base_manager.using(self.db).filter(pk__in=list(before)).values("pk", *names)
                journal.record_bulk_update(self.model, before, {row["pk"]: row for row in after_rows}, using=self.db)
        return count

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        from . import journal

        if not journal.is_registered(self.model):
            return super().bulk_create(objs, *args, **kwargs)
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            journal.record_bulk_create(self.model, list(created), using=self.db)
        return created


class ScopedQuerySet(JournaledQuerySet[M]):
    """The queryset of every model reached through core.access: ``Model.objects.visible_to(user)``.

    Models holding customer data are limited to the user's data scope as well as by module
    permission; models that set ``access_data_scoped = False`` by module permission only.
    """

    def visible_to(self, user: Any, *, action: str = "view") -> ScopedQuerySet[M]:
        from .access import scope_queryset

        return scope_queryset(self, user, action=action)  # type: ignore[return-value]
