"""Reads of custom field definitions.

The active definitions of a record type are read on every list, form, detail page, API call and
import; they change rarely. They are kept in the cache (shared by every process, dropped whenever a
definition changes) and, within one request, in memory: a page costs no query for them.
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
_CACHE_KEY = "customers:custom_fields:active:v1:{entity}"
ENTITY_MODELS: dict[str, type[Company] | type[Contact]] = {
    CustomFieldEntity.COMPANY: Company,
    CustomFieldEntity.CONTACT: Contact,
}

# (request id, entity -> definitions): the definitions read during the current request.
_request_memo: contextvars.ContextVar[tuple[str, dict[str, list[CustomField]]] | None] = contextvars.ContextVar(
    "crm_custom_fields_memo", default=None
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


def active_by_key(entity: str) -> dict[str, CustomField]:
    return {definition.key: definition for definition in active_definitions(entity)}


def forget_definitions() -> None:
    """Drop the remembered definitions (now, and again when the transaction commits)."""

    def drop() -> None:
        cache.delete_many([_CACHE_KEY.format(entity=entity) for entity in ENTITY_MODELS])
        _request_memo.set(None)

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


def records_with_choice(*, definition: CustomField, choice: str) -> QuerySet[Any]:
    """The records whose value of a choice field is (or, for several choices, includes) ``choice``."""
    from .filters import choice_condition

    model = ENTITY_MODELS[definition.entity]
    return model._default_manager.filter(choice_condition(definition, choice))
