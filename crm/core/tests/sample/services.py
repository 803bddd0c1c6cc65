from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from crm.core import access
from crm.core.versioning import save_versioned

from .models import Gadget


@transaction.atomic
def gadget_create(*, actor: Any, name: str, notes: str = "", owner: Any = None, team: Any = None) -> Gadget:
    if not access.can(actor, "sample", "create"):
        raise PermissionDenied
    gadget = Gadget(name=name, notes=notes, owner=owner or actor, team=team)
    gadget.full_clean()
    gadget.save()
    return gadget


@transaction.atomic
def gadget_update(*, actor: Any, gadget: Gadget, data: dict[str, Any], version: int | None) -> Gadget:
    for field, value in data.items():
        setattr(gadget, field, value)
    return save_versioned(gadget, expected_version=version, update_fields=list(data))


@transaction.atomic
def gadget_delete(*, actor: Any, gadget: Gadget) -> None:
    gadget.delete()
