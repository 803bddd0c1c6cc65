"""Bulk actions on companies and contacts picked in a list: assign an owner, add or remove a tag,
change the lifecycle stage, delete.

Each function is keyword-only, atomic and permission-checked; it re-scopes the ids it is given
through the selectors, so an id outside the actor's data scope is ignored, never touched. The
writes are bulk operations of ``JournaledQuerySet`` (and many-to-many ``add``/``remove``), so every
changed row is in the journal. Each returns how many records it changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, ProtectedError, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access

from . import selectors
from .choices import LifecycleStage
from .models import Company, Contact, Tag

MODULE = "customers"
MAX_IDS = 1000


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


def clean_ids(ids: Iterable[Any]) -> list[int]:
    """The integer ids among ``ids`` (form values are strings), without duplicates, at most ``MAX_IDS``."""
    cleaned: list[int] = []
    seen: set[int] = set()
    for value in ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number > 0 and number not in seen:
            seen.add(number)
            cleaned.append(number)
    return cleaned[:MAX_IDS]


def _scoped(model: type[models.Model], actor: Any, ids: Iterable[Any], action: str) -> QuerySet[Any]:
    """The rows among ``ids`` that ``actor`` may ``action``: everything else is silently left out."""
    wanted = clean_ids(ids)
    if model is Contact:
        rows: QuerySet[Any] = selectors.contact_list(user=actor, action=action)
    else:
        rows = selectors.company_list(user=actor, action=action)
    return rows.filter(pk__in=wanted).select_related(None).order_by()


def _touch(model: type[models.Model], pks: list[int]) -> None:
    """Bump version and ``updated_at`` of rows changed through a relation (tags): an editor who loaded
    the old version then gets a conflict instead of silently undoing the bulk change."""
    if pks:
        rows = model._base_manager.filter(pk__in=pks)
        # A plain QuerySet.update (not journaled): the version is bookkeeping, not customer data.
        models.QuerySet.update(rows, version=F("version") + 1, updated_at=timezone.now())


def _update(model: type[models.Model], actor: Any, ids: Iterable[Any], **values: Any) -> int:
    _require(actor, "edit")
    changing = _scoped(model, actor, ids, "edit").exclude(**values)
    pks = list(changing.values_list("pk", flat=True))
    if not pks:
        return 0
    # JournaledQuerySet.update records each row's old and new values in the journal.
    return model.objects.filter(pk__in=pks).update(  # type: ignore[attr-defined,no-any-return]
        **values, version=F("version") + 1, updated_at=timezone.now()
    )


def _add_tag(model: type[models.Model], actor: Any, ids: Iterable[Any], tag: Tag) -> int:
    _require(actor, "edit")
    pks = list(_scoped(model, actor, ids, "edit").exclude(tags=tag).values_list("pk", flat=True))
    related = tag.contacts if model is Contact else tag.companies
    related.add(*pks)  # the many-to-many signal journals one entry per record
    _touch(model, pks)
    return len(pks)


def _remove_tag(model: type[models.Model], actor: Any, ids: Iterable[Any], tag: Tag) -> int:
    _require(actor, "edit")
    pks = list(_scoped(model, actor, ids, "edit").filter(tags=tag).values_list("pk", flat=True))
    related = tag.contacts if model is Contact else tag.companies
    related.remove(*pks)
    _touch(model, pks)
    return len(pks)


def _check_owner(owner: Any) -> None:
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})


# --- contacts --------------------------------------------------------------------------------------


@transaction.atomic
def contact_bulk_assign_owner(*, actor: Any, ids: Iterable[Any], owner: Any) -> int:
    _check_owner(owner)
    return _update(Contact, actor, ids, owner=owner)


@transaction.atomic
def contact_bulk_add_tag(*, actor: Any, ids: Iterable[Any], tag: Tag) -> int:
    return _add_tag(Contact, actor, ids, tag)


@transaction.atomic
def contact_bulk_remove_tag(*, actor: Any, ids: Iterable[Any], tag: Tag) -> int:
    return _remove_tag(Contact, actor, ids, tag)


@transaction.atomic
def contact_bulk_set_lifecycle_stage(*, actor: Any, ids: Iterable[Any], stage: str) -> int:
    if stage not in LifecycleStage.values:
        raise ValidationError({"lifecycle_stage": _("Choose a lifecycle stage.")})
    return _update(Contact, actor, ids, lifecycle_stage=stage)


@transaction.atomic
def contact_bulk_delete(*, actor: Any, ids: Iterable[Any]) -> int:
    _require(actor, "delete")
    rows = _scoped(Contact, actor, ids, "delete")
    pks = list(rows.values_list("pk", flat=True))
    if not pks:
        return 0
    try:
        # QuerySet.delete sends the delete signals per row: each contact (and its emails and phones)
        # is journaled.
        Contact.objects.filter(pk__in=pks).delete()
    except ProtectedError:
        raise ValidationError(
            _("Some of these contacts are still used elsewhere (deals, tickets...). Nothing was deleted.")
        ) from None
    return len(pks)


# --- companies -------------------------------------------------------------------------------------


@transaction.atomic
def company_bulk_assign_owner(*, actor: Any, ids: Iterable[Any], owner: Any) -> int:
    _check_owner(owner)
    return _update(Company, actor, ids, owner=owner)


@transaction.atomic
def company_bulk_add_tag(*, actor: Any, ids: Iterable[Any], tag: Tag) -> int:
    return _add_tag(Company, actor, ids, tag)


@transaction.atomic
def company_bulk_remove_tag(*, actor: Any, ids: Iterable[Any], tag: Tag) -> int:
    return _remove_tag(Company, actor, ids, tag)


@transaction.atomic
def company_bulk_delete(*, actor: Any, ids: Iterable[Any]) -> int:
    """Deletes the companies that nothing depends on; those that still have contacts or
    subsidiaries (anyone's, not only the actor's) are kept."""
    _require(actor, "delete")
    pks = list(_scoped(Company, actor, ids, "delete").values_list("pk", flat=True))
    if not pks:
        return 0
    kept = set(Contact.objects.filter(company_id__in=pks).values_list("company_id", flat=True))
    kept |= set(Company.objects.filter(parent_id__in=pks).exclude(pk__in=pks).values_list("parent_id", flat=True))
    free = [pk for pk in pks if pk not in kept]
    # Subsidiaries chosen together with their parent go first.
    deleted = 0
    remaining = free
    while remaining:
        parents = set(Company.objects.filter(parent_id__in=remaining).values_list("parent_id", flat=True))
        leaves = [pk for pk in remaining if pk not in parents]
        if not leaves:
            break
        try:
            Company.objects.filter(pk__in=leaves).delete()
        except ProtectedError:
            raise ValidationError(
                _("Some of these companies are still used elsewhere (deals, tickets...). Nothing was deleted.")
            ) from None
        deleted += len(leaves)
        remaining = [pk for pk in remaining if pk not in set(leaves)]
    return deleted
