"""Reads of custom field definitions.

The active definitions of a record type are read on every list, form, detail page, API call and
import; they change rarely. They are kept in the cache (shared by every process, dropped whenever a
definition changes) and, within one request, in memory: a page costs no query for them. So are the
keys of the fields marked sensitive (inactive ones included), which every write of a record's custom
values asks for (``storage.CustomValuesField`` seals their values).
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from crm.core import context

from ..choices import CustomFieldEntity
from ..models import Company, Contact, CustomField

CACHE_SECONDS = 300
_CACHE_KEY = "customers:custom_fields:active:v2:{entity}"  # v2: definitions have `sensitive`
_SENSITIVE_CACHE_KEY = "customers:custom_fields:sensitive:v1:{entity}"
ENTITY_MODELS: dict[str, type[Company] | type[Contact]] = {
    CustomFieldEntity.COMPANY: Company,
    CustomFieldEntity.CONTACT: Contact,
}

# (request id, entity -> definitions): the definitions read during the current request.
_request_memo: contextvars.ContextVar[tuple[str, dict[str, list[CustomField]]] | None] = contextvars.ContextVar(
    "crm_custom_fields_memo", default=None
)
# (request id, entity -> keys of sensitive fields), likewise.
_sensitive_memo: contextvars.ContextVar[tuple[str, dict[str, frozenset[str]]] | None] = contextvars.ContextVar(
    "crm_custom_fields_sensitive_memo", default=None
)


def entity_of(model: Any) -> str:
    """``"company"`` or ``"contact"`` for a model (class or instance)."""
    model = model if isinstance(model, type) else type(model)
    for entity, known in ENTITY_MODELS.items():
        if issubclass(model, known):
            return str(entity)
    raise ValueError(f"{model.__name__} has no custom fields")


def active_definitions(entity: str) -> list[CustomField]:
    """The active fields of ``entity`` ("company" / "contact"), in their order. Do not change them."""
    request_id = context.current().request_id
    memo = _request_memo.get()
    if request_id and memo is not None and memo[0] == request_id and entity in memo[1]:
        return memo[1][entity]
    key = _CACHE_KEY.format(entity=entity)
    definitions = cache.get(key)
    if definitions is None:
        definitions = list(CustomField.objects.filter(entity=entity, is_active=True).order_by("position", "id"))
        cache.set(key, definitions, CACHE_SECONDS)
    if request_id:
        if memo is None or memo[0] != request_id:
            memo = (request_id, {})
            _request_memo.set(memo)
        memo[1][entity] = definitions
    return list(definitions)


def reset_request_memo(**kwargs: Any) -> None:
    """Start each request without the previous one's definitions (a request id can repeat: clients
    may send their own)."""
    _request_memo.set(None)
    _sensitive_memo.set(None)


def active_by_key(entity: str) -> dict[str, CustomField]:
    return {definition.key: definition for definition in active_definitions(entity)}


def labels_by_key(entity: str, keys: Any) -> dict[str, str]:
    """The label of each of ``keys``, fields switched off since included; a key whose definition was
    deleted is its own label."""
    wanted = set(keys)
    labels = {key: definition.label for key, definition in active_by_key(entity).items() if key in wanted}
    missing = wanted - labels.keys()
    if missing:
        labels.update(CustomField.objects.filter(entity=entity, key__in=missing).values_list("key", "label"))
    return {key: labels.get(key, key) for key in wanted}


def sensitive_keys(entity: str) -> frozenset[str]:
    """The keys of the fields of ``entity`` marked sensitive, inactive ones included (their values are
    kept, and stay encrypted, while the field is hidden)."""
    request_id = context.current().request_id
    memo = _sensitive_memo.get()
    if request_id and memo is not None and memo[0] == request_id and entity in memo[1]:
        return memo[1][entity]
    key = _SENSITIVE_CACHE_KEY.format(entity=entity)
    keys = cache.get(key)
    if keys is None:
        keys = sorted(CustomField.objects.filter(entity=entity, sensitive=True).values_list("key", flat=True))
        cache.set(key, keys, CACHE_SECONDS)
    found = frozenset(keys)
    if request_id:
        if memo is None or memo[0] != request_id:
            memo = (request_id, {})
            _sensitive_memo.set(memo)
        memo[1][entity] = found
    return found


def forget_definitions() -> None:
    """Drop the remembered definitions (now, and again when the transaction commits)."""

    def drop() -> None:
        cache.delete_many(
            [
                template.format(entity=entity)
                for entity in ENTITY_MODELS
                for template in (_CACHE_KEY, _SENSITIVE_CACHE_KEY)
            ]
        )
        _request_memo.set(None)
        _sensitive_memo.set(None)

    drop()
    transaction.on_commit(drop)


def definition_list(*, entity: str | None = None) -> QuerySet[CustomField]:
    """Every definition (inactive ones too), for the administration pages and the API."""
    definitions = CustomField.objects.order_by("entity", "position", "id")
    return definitions.filter(entity=entity) if entity else definitions


def definition_get(*, pk: Any) -> CustomField | None:
    return CustomField.objects.filter(pk=pk).first()


def records_with_value(*, definition: CustomField) -> QuerySet[Any]:
    """The records (of every owner: the question is the field's, not a person's) holding a value."""
    model = ENTITY_MODELS[definition.entity]
    return model._default_manager.filter(custom__has_key=definition.key)


def records_with_choice(*, definition: CustomField, choice: str, sealed: bool | None = None) -> QuerySet[Any]:
    """The records whose value of a choice field is (or, for several choices, includes) ``choice``.

    A sensitive field's values are encrypted (``sealed``: whether some may be; by default, whether the
    field is sensitive), so SQL cannot compare them: its records holding a value are read and their
    clear values compared here (an administrator's rare question)."""
    from .filters import choice_condition

    model = ENTITY_MODELS[definition.entity]
    if not (definition.sensitive if sealed is None else sealed):
        return model._default_manager.filter(choice_condition(definition, choice))
    matching = []
    holders = records_with_value(definition=definition).order_by("pk").values_list("pk", "custom")
    for pk, custom in holders.iterator(chunk_size=2000):
        value = custom.get(definition.key) if isinstance(custom, dict) else None
        if value == choice or (isinstance(value, list) and choice in value):
            matching.append(pk)
    return model._default_manager.filter(pk__in=matching)
