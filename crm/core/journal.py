"""The change journal: every create, update and delete of a registered model, with who, when, by
which path, and each field's old and new value, written in the same transaction as the change.

A model declares itself in its app's ``AppConfig.ready()``::

    journal.register(Contact, exclude=["search_text"], redact=["password"], shown={"phone": display_phone})

From then on every path is covered: ``save()`` and ``delete()`` (pages, API, admin, commands,
tasks), cascaded deletes, many-to-many changes, and the bulk operations of ``JournaledQuerySet``
(``update``, ``bulk_create``, ``bulk_update``). A test in ``crm/core/tests/test_journal.py``
changes data through each path and finds each change here. The entry's id is its sequence number.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone

from . import context
from .choices import JournalAction
from .crypto import keyring

REDACTED = "***"


@dataclass(frozen=True)
class JournalOptions:
    exclude: frozenset[str] = field(default_factory=frozenset)
    redact: frozenset[str] = field(default_factory=frozenset)
    shown: Mapping[str, Callable[[str], str]] = field(default_factory=dict)


_registry: dict[type[models.Model], JournalOptions] = {}


def register(
    model: type[models.Model],
    *,
    exclude: Iterable[str] = (),
    redact: Iterable[str] = (),
    shown: Mapping[str, Callable[[str], str]] | None = None,
) -> None:
    """Journal every change of ``model``. ``redact`` fields record that they changed, never their values;
    ``shown`` formats a field's recorded values for people (``{"phone": display_phone}``)."""
    if model in _registry:
        return
    _registry[model] = JournalOptions(exclude=frozenset(exclude), redact=frozenset(redact), shown=dict(shown or {}))
    uid = f"crm-journal-{model._meta.label}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + "-pre", weak=False)
    post_save.connect(_post_save, sender=model, dispatch_uid=uid + "-post", weak=False)
    post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + "-delete", weak=False)
    for m2m in model._meta.local_many_to_many:
        if m2m.name not in _registry[model].exclude:
            m2m_changed.connect(
                _m2m_changed, sender=m2m.remote_field.through, dispatch_uid=f"{uid}-{m2m.name}", weak=False
            )


def is_registered(model: type[models.Model]) -> bool:
    return _meta_model(model) in _registry


def registered_models() -> list[type[models.Model]]:
    return list(_registry)


def _meta_model(model: type[models.Model]) -> type[models.Model]:
    return model._meta.concrete_model or model  # proxies journal as their concrete model


def _options(model: type[models.Model]) -> JournalOptions:
    return _registry[_meta_model(model)]


def options(model: type[models.Model]) -> JournalOptions:
    """How ``model`` was registered (``is_registered`` first)."""
    return _options(model)


_tracked: dict[type[models.Model], list[models.Field[Any, Any]]] = {}


def tracked_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields whose values the journal records (computed once per model)."""
    fields = _tracked.get(model)
    if fields is None:
        opts = _options(model)
        skipped = {"created_at", "updated_at", "version"}
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in opts.exclude and f.name not in skipped
        ]
        _tracked[model] = fields
    return fields


def field_names(model: type[models.Model], names: list[str]) -> list[str]:
    """The tracked field names among ``names`` (accepting attnames such as ``owner_id``)."""
    wanted = set(names)
    return [f.name for f in tracked_fields(model) if f.name in wanted or f.attname in wanted]


def to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or None
    return str(value)


def snapshot(obj: models.Model, names: Iterable[str] | None = None) -> dict[str, Any]:
    wanted = set(names) if names is not None else None
    return {
        f.name: to_json(f.value_from_object(obj))
        for f in tracked_fields(type(obj))
        if wanted is None or f.name in wanted
    }


_sealed: dict[type[models.Model], dict[str, Any]] = {}


def sealed_fields(model: type[models.Model]) -> dict[str, Any]:
    """The fields of ``model`` whose values the journal keeps encrypted too: encrypted fields, and
    fields with a ``journal_value(value)`` method that seals the sensitive parts of a value (custom
    field values), by name."""
    names = _sealed.get(model)
    if names is None:
        names = {
            f.name: f for f in tracked_fields(model) if getattr(f, "encrypted", False) or hasattr(f, "journal_value")
        }
        _sealed[model] = names
    return names


def _seal(value: Any) -> Any:
    if value is None or value == "":
        return value
    return keyring.seal(str(value))


def _diff(model: type[models.Model], old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each changed field's old and new value, compared in clear, kept encrypted for encrypted fields."""
    opts = _options(model)
    sealed = sealed_fields(_meta_model(model))
    changes: dict[str, list[Any]] = {}
    for name in new.keys() | old.keys():
        before, after = old.get(name), new.get(name)
        if before != after:
            if name in opts.redact:
                changes[name] = [REDACTED, REDACTED]
            elif name in sealed:
                seal = getattr(sealed[name], "journal_value", _seal)
                changes[name] = [seal(before), seal(after)]
            else:
                changes[name] = [before, after]
    return changes


def _entry(model: type[models.Model], pk: Any, repr_: str, action: str, changes: dict[str, Any]) -> tuple[Any, ...]:
    """One journal row, as the values of ``_COLUMNS`` (a plain tuple: an import writes thousands)."""
    ctx = context.current()
    return (
        ctx.actor_id,
        ctx.actor_repr[:150],
        ctx.source,
        action,
        ContentType.objects.get_for_model(_meta_model(model)).pk,
        str(pk),
        repr_[:200],
        json.dumps(changes, ensure_ascii=False, allow_nan=False),
        ctx.request_id,
    )


_COLUMNS = (
    "actor_id",
    "actor_repr",
    "source",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "changes",
    "request_id",
)


def _write(entries: list[tuple[Any, ...]], using: str) -> None:
    """Insert journal rows without building model instances (the ORM's per-field preparation cost
    more than the change being recorded on bulk paths): COPY on PostgreSQL, multi-row INSERTs elsewhere."""
    if not entries:
        return
    from .models import JournalEntry
    from .rows import append_rows

    connection = connections[using]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    append_rows(connection, JournalEntry._meta.db_table, ("timestamp", *_COLUMNS), [(now, *entry) for entry in entries])


def record_event(
    model: type[models.Model], pk: Any, repr_: str, action: str, changes: dict[str, Any], *, using: str | None = None
) -> None:
    """One journal row for something that is not a change of a record (an export), by the same INSERT
    as the changes, with who and by which path from the current change context."""
    from .models import JournalEntry

    _write([_entry(model, pk, repr_, action, changes)], using or router.db_for_write(JournalEntry))


def record_text(obj: models.Model) -> str:
    """The record's text for the journal: its ``str()``, unless that shows the clear value of an
    encrypted field (a phone row's number), which the journal must not keep."""
    fallback = f"{obj._meta.verbose_name} {obj.pk}"
    try:
        text = str(obj)
    except Exception:  # a __str__ that needs a relation that is gone
        return fallback
    for sealed in sealed_fields(_meta_model(type(obj))).values():
        value = sealed.value_from_object(obj)
        if not isinstance(value, (str, dt.date)) or value == "":
            continue
        shown = str(value)
        # A long value anywhere in the text; a short one (a postal code such as "Li") only as the whole
        # text, so that a name that merely contains it is still shown.
        if shown == text or (len(shown) >= 5 and shown in text):
            return fallback
    return text


# --- save / delete / many-to-many ------------------------------------------------------------------


def _pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding or instance.pk is None:
        instance._journal_before = None  # type: ignore[attr-defined]
        return
    using = kwargs.get("using") or router.db_for_write(sender)
    names = kwargs.get("update_fields")
    names = field_names(sender, list(names)) if names else [f.name for f in tracked_fields(sender)]
    before = sender._base_manager.using(using).filter(pk=instance.pk).first()
    instance._journal_before = snapshot(before, names) if before is not None else None  # type: ignore[attr-defined]


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    using = kwargs.get("using") or router.db_for_write(sender)
    before = getattr(instance, "_journal_before", None)
    instance._journal_before = None  # type: ignore[attr-defined]
    if created or before is None:
        after = snapshot(instance)
        changes = _diff(sender, {}, after)
        _write([_entry(sender, instance.pk, record_text(instance), JournalAction.CREATE, changes)], using)
        return
    after = snapshot(instance, before.keys())
    changes = _diff(sender, before, after)
    if changes:
        _write([_entry(sender, instance.pk, record_text(instance), JournalAction.UPDATE, changes)], using)


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    using = kwargs.get("using") or router.db_for_write(sender)
    changes = _diff(sender, snapshot(instance), {})
    _write([_entry(sender, instance.pk, record_text(instance), JournalAction.DELETE, changes)], using)


def _m2m_changed(
    sender: Any, instance: models.Model, action: str, reverse: bool, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    using = kwargs.get("using") or router.db_for_write(type(instance))
    for owner_model, m2m in _m2m_fields_for_through(sender):
        if reverse:
            # instance is on the far side: each owner row in pk_set changed.
            if action == "pre_clear":
                pk_set = set(getattr(instance, m2m.related_query_name()).values_list("pk", flat=True))
                instance._journal_m2m_clear = pk_set  # type: ignore[attr-defined]
                return
            if action == "post_clear":
                pk_set = getattr(instance, "_journal_m2m_clear", set())
            verb = "add" if action == "post_add" else "remove"
            entries = [
                _entry(
                    owner_model,
                    pk,
                    f"{owner_model._meta.verbose_name} {pk}",
                    JournalAction.UPDATE,
                    {m2m.name: {verb: [to_json(instance.pk)]}},
                )
                for pk in sorted(pk_set or [])
            ]
            _write(entries, using)
            return
        if action == "pre_clear":
            instance._journal_m2m_clear = set(getattr(instance, m2m.name).values_list("pk", flat=True))  # type: ignore[attr-defined]
            return
        if action == "post_clear":
            pk_set = getattr(instance, "_journal_m2m_clear", set())
        if not pk_set:
            return
        verb = "add" if action == "post_add" else "remove"
        change = {m2m.name: {verb: sorted(to_json(pk) for pk in pk_set)}}
        _write([_entry(owner_model, instance.pk, record_text(instance), JournalAction.UPDATE, change)], using)


def _m2m_fields_for_through(through: Any) -> list[tuple[type[models.Model], Any]]:
    found = []
    for model in _registry:
        for m2m in model._meta.local_many_to_many:
            if m2m.remote_field.through is through and m2m.name not in _registry[model].exclude:
                found.append((model, m2m))
    return found


# --- bulk operations (called by JournaledQuerySet) -----------------------------------------------------


def record_bulk_create(model: type[models.Model], objs: list[Any], *, using: str) -> None:
    fields = tracked_fields(_meta_model(model))
    rows = [{f.attname: f.value_from_object(obj) for f in fields} for obj in objs]
    record_created_rows(model, [obj.pk for obj in objs], rows, [record_text(obj) for obj in objs], using=using)


def record_created_rows(
    model: type[models.Model],
    pks: Sequence[Any],
    rows: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    using: str,
) -> None:
    """Journal rows inserted without model instances (``crm.core.rows.insert_rows``): each row's
    values by attname, complete with defaults, and its text for the journal."""
    fields = [(f.name, f.attname) for f in tracked_fields(_meta_model(model))]
    entries = []
    for pk, row, label in zip(pks, rows, labels, strict=True):
        changes = _diff(model, {}, {name: to_json(row.get(attname)) for name, attname in fields})
        entries.append(_entry(model, pk, label, JournalAction.CREATE, changes))
    _write(entries, using)


def record_bulk_update(
    model: type[models.Model],
    before: Mapping[Any, Mapping[str, Any]],
    after: Mapping[Any, Mapping[str, Any]],
    *,
    using: str,
) -> None:
    entries = []
    for pk, old in before.items():
        new = after.get(pk)
        if new is None:
            continue
        old_json = {k: to_json(v) for k, v in old.items() if k != "pk"}
        new_json = {k: to_json(v) for k, v in new.items() if k != "pk"}
        changes = _diff(model, old_json, new_json)
        if changes:
            entries.append(_entry(model, pk, f"{model._meta.verbose_name} {pk}", JournalAction.UPDATE, changes))
    _write(entries, using)


class JournaledModelMixin(models.Model):
    """Makes ``save()`` and ``delete()`` one transaction with their journal entries."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self))):
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self))):
            return super().delete(*args, **kwargs)
