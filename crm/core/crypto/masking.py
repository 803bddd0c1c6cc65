"""Who may see sensitive fields, and the audit of who did.

A role either has the "view sensitive fields" permission (module ``sensitive``, action ``view``) or
sees ``MASK`` wherever such a value would be shown: pages, API, search results, exports. Every place
that shows one asks :func:`shown` (templates: the ``sensitive`` filter; serializers:
``SensitiveFieldsMixin``), which also notes the read; the request's reads are written to the audit
log as one "view" entry per record type when the response is ready (:func:`flush_reads`).

Work with no person behind it (commands, system tasks) sees clear values.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import defaultdict
from typing import Any

from django.db import models

from .. import access, context

MASK = "••••••"
MODULE = "sensitive"

_reads: contextvars.ContextVar[dict[type[models.Model], set[str]] | None] = contextvars.ContextVar(
    "crm_sensitive_reads", default=None
)


def may_view(user: Any) -> bool:
    if user is None:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_crm_may_view_sensitive", None)
    if cached is None:
        cached = access.can(user, MODULE, "view")
        with contextlib.suppress(AttributeError):
            user._crm_may_view_sensitive = cached
    return bool(cached)


def visible() -> bool:
    """May the person this work is for see sensitive values?"""
    return may_view(context.current().viewer)


def shown(record: Any, value: Any) -> Any:
    """``value`` (a sensitive value of ``record``, or something made from it) as the current viewer may
    see it: itself, noted as read, or ``MASK``. Empty values stay empty (that a person has no phone
    number is no secret)."""
    return shown_of(type(record) if isinstance(record, models.Model) else None, getattr(record, "pk", None), value)


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and value == MASK


def without_masks(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a service's input) without the values that are the mask: someone who read a record
    masked and sends it back, by any path, leaves those values as they are. A list of phone rows with
    a masked number is left out whole; masked custom values are left out one by one."""
    kept: dict[str, Any] = {}
    for name, value in data.items():
        if is_masked(value):
            continue
        if name == "custom" and isinstance(value, dict):
            value = {key: item for key, item in value.items() if not is_masked(item)}
        elif isinstance(value, list) and any(
            isinstance(row, dict) and any(is_masked(item) for item in row.values()) for row in value
        ):
            continue
        kept[name] = value
    return kept


def note_read(record: Any) -> None:
    if isinstance(record, models.Model) and record.pk is not None:
        note_read_of(type(record), record.pk)


def note_read_of(model: type[models.Model] | None, pk: Any) -> None:
    reads = _reads.get()
    if reads is not None and model is not None and pk not in (None, ""):
        reads[model._meta.concrete_model or model].add(str(pk))


def shown_of(model: type[models.Model] | None, pk: Any, value: Any) -> Any:
    """:func:`shown` for a record known by its type and id (a journal entry's)."""
    if value is None or value == "":
        return value
    if not visible():
        return MASK
    note_read_of(model, pk)
    return value


def start_collecting() -> contextvars.Token[Any]:
    return _reads.set(defaultdict(set))


def flush_reads(token: contextvars.Token[Any]) -> None:
    """Write the reads noted since :func:`start_collecting` to the audit log and stop collecting."""
    reads = _reads.get()
    _reads.reset(token)
    if not reads:
        return
    from .. import journal
    from ..choices import JournalAction

    for model, pks in reads.items():
        ids = sorted(pks, key=lambda pk: (len(pk), pk))
        object_id = ids[0] if len(ids) == 1 else ""
        label = str(model._meta.verbose_name if len(ids) == 1 else model._meta.verbose_name_plural)
        journal.record_event(model, object_id, label, JournalAction.VIEW, {"ids": [None, ids[:1000]]})
