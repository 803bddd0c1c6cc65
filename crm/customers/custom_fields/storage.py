"""The ``custom`` column of companies and contacts: JSON whose values of fields marked sensitive are
stored encrypted (AES-256-GCM, with the keys of ``crm.core.crypto.keyring``).

    custom = CustomValuesField(_("custom fields"), default=dict, blank=True)

On the way to the database the value of each sensitive field becomes ``keyring.seal(json.dumps(value))``,
a string ``enc1:<key id>:...`` in place of the value; on the way back every such string is opened
again, so every piece of Python (services, forms, pages, the API, imports, exports, merges) sees clear
values. Which keys are sensitive comes from the record type's definitions, inactive ones included (a
hidden field's values stay encrypted): ``selectors.sensitive_keys``. The journal keeps its copy of a
change with the same values encrypted (``journal_value``), and ``rotate_keys`` re-encrypts them
(``holds_sealed_values``).

A sealed value cannot be compared in SQL, so sensitive fields are neither filters nor sort columns.
A clear value that merely looks like a sealed one (a text starting with ``enc1:``) is sealed as well,
so that reading it back never mistakes it for one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db import models

from crm.core.crypto import keyring

# The record types with custom fields, by model name (historical models of migrations included).
ENTITIES = {"company": "company", "contact": "contact"}


def seal_value(value: Any) -> str:
    return keyring.seal(json.dumps(value, ensure_ascii=False))


def open_value(token: str) -> Any:
    return json.loads(keyring.open_sealed(token))


def sealed(values: Mapping[str, Any], sensitive: frozenset[str] | set[str]) -> dict[str, Any]:
    """``values`` with the values of the ``sensitive`` keys (and clear texts that look sealed) sealed."""
    return {
        key: seal_value(value) if value is not None and (key in sensitive or keyring.is_sealed(value)) else value
        for key, value in values.items()
    }


def opened(value: Any) -> Any:
    """A stored value (the whole object, or one key's value) with every sealed value opened."""
    if isinstance(value, dict):
        return {key: open_value(item) if keyring.is_sealed(item) else item for key, item in value.items()}
    if keyring.is_sealed(value):
        return open_value(value)
    return value


class CustomValuesField(models.JSONField):  # type: ignore[type-arg]
    """A record's custom field values, with those of sensitive fields stored encrypted."""

    holds_sealed_values = True

    def sensitive_keys(self) -> frozenset[str]:
        """The keys of this record type's fields marked sensitive (read from the cached definitions)."""
        model = getattr(self, "model", None)
        entity = ENTITIES.get(getattr(getattr(model, "_meta", None), "model_name", ""))
        if entity is None:
            return frozenset()
        from .selectors import sensitive_keys

        return sensitive_keys(entity)

    def journal_rows(
        self, old: Mapping[str, Any], new: Mapping[str, Any], *, changed: set[str]
    ) -> list[tuple[str, str, str]]:
        """A change of the values as the journal's readers see it: one row per changed active field, with
        the field's label and its values formatted as on the record's page (``crm.core.journal_display``).
        ``old`` and ``new`` are as the viewer may see them (masks for sensitive values), ``changed`` the
        keys whose clear values differ. Fields switched off are left out, as everywhere else."""
        from .selectors import active_definitions
        from .values import display

        model = getattr(self, "model", None)
        entity = ENTITIES.get(getattr(getattr(model, "_meta", None), "model_name", ""))

        def text(definition: Any, value: Any) -> str:
            shown = display(definition, value)
            return "—" if shown is None else str(shown)

        return [
            (definition.label, text(definition, old.get(definition.key)), text(definition, new.get(definition.key)))
            for definition in (active_definitions(entity) if entity else [])
            if definition.key in changed
        ]

    def seal(self, value: Any) -> Any:
        if not isinstance(value, Mapping) or not value:
            return value  # nothing to seal: the definitions are not even asked
        return sealed(value, self.sensitive_keys())

    def get_prep_value(self, value: Any) -> Any:
        return self.seal(super().get_prep_value(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return opened(super().from_db_value(value, expression, connection))

    def journal_value(self, value: Any) -> Any:
        """The journal's copy of a value: the values of sensitive fields sealed, as in the column."""
        if value is None:
            return None
        return self.seal(value)
