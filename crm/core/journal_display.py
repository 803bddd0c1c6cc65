"""Turns journal entries into rows a person can read: field labels instead of column names, related
records by name instead of ids, yes/no instead of true/false. Related names are fetched in one query
per related model for a whole page of entries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from . import journal
from .crypto import keyring, masking
from .journal import REDACTED


@dataclass
class ChangeRow:
    label: str
    old: str
    new: str
    kind: str  # "value", "added", "removed", "redacted"


def _field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)[:200]
    return _cut(str(value))


def _opened(token: str, model: Any, object_id: str, *, as_json: bool = False, shown: bool = True) -> Any:
    """A value the journal keeps encrypted (``as_json``: a sensitive custom field's, sealed as JSON), as
    the viewer may see it; with ``shown=False``, in clear to be compared (each sealing of one value
    differs), never to be shown."""
    try:
        text = keyring.open_sealed(token)
        value = json.loads(text) if as_json else text
    except (keyring.DecryptionError, ValueError):
        return _("(cannot be decrypted)") if shown else token
    return masking.shown_of(model, object_id, value) if shown else value


def _opened_values(value: Any, model: Any, object_id: str, *, shown: bool = True) -> dict[str, Any]:
    """A dict of values (custom fields), those the journal keeps encrypted opened (see ``_opened``)."""
    if not isinstance(value, dict):
        return {}
    return {
        key: _opened(item, model, object_id, as_json=True, shown=shown) if keyring.is_sealed(item) else item
        for key, item in value.items()
    }


def _formatter(model: Any, name: str) -> Any:
    """How the module that registered ``model`` shows the values of ``name`` (``journal.register(shown=)``)."""
    if model is None or not journal.is_registered(model):
        return None
    return journal.options(model).shown.get(name)


def describe(entries: Iterable[Any]) -> list[Any]:
    """Attach ``rows`` (a list of ChangeRow) to each entry and return the entries."""
    entries = list(entries)
    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    for entry in entries:
        model = entry.content_type.model_class()
        for name, change in entry.changes.items():
            field = _field(model, name)
            if field is None or not field.is_relation or field.related_model is None:
                continue
            values = change.get("add", []) + change.get("remove", []) if isinstance(change, dict) else change
            wanted[field.related_model].update(v for v in values if isinstance(v, (int, str)) and v != REDACTED)
    names: dict[type[models.Model], dict[str, str]] = {}
    for related, ids in wanted.items():
        names[related] = {str(pk): str(obj) for pk, obj in related._base_manager.in_bulk(list(ids)).items()}

    for entry in entries:
        model = entry.content_type.model_class()
        rows: list[ChangeRow] = []
        for name, change in entry.changes.items():
            field = _field(model, name)
            label = str(getattr(field, "verbose_name", name) or name)
            if field is not None and field.is_relation:
                lookup = names.get(field.related_model, {})
            elif field is not None and getattr(field, "flatchoices", None):
                lookup = {str(value): str(text) for value, text in field.flatchoices}
            else:
                lookup = {}

            formatter = _formatter(model, name)

            def show(
                value: Any,
                lookup: dict[str, str] = lookup,
                entry: Any = entry,
                model: Any = model,
                formatter: Any = formatter,
            ) -> str:
                if keyring.is_sealed(value):
                    value = _opened(value, model, entry.object_id)
                if formatter is not None and isinstance(value, str) and value and not masking.is_masked(value):
                    return str(formatter(value))
                if isinstance(value, dict):  # values of several fields, those of sensitive ones sealed
                    value = _opened_values(value, model, entry.object_id)
                return lookup.get(str(value), _text(value)) if value is not None else "—"

            expand = getattr(field, "journal_rows", None)  # a field whose value holds several (custom fields)
            if expand is not None and isinstance(change, list) and change != [REDACTED, REDACTED]:
                old, new = [*change, None, None][:2]
                clear = [_opened_values(value, model, entry.object_id, shown=False) for value in (old, new)]
                changed = {key for key in clear[0].keys() | clear[1].keys() if clear[0].get(key) != clear[1].get(key)}
                shown = [_opened_values(value, model, entry.object_id) for value in (old, new)]
                rows.extend(
                    ChangeRow(part, _cut(before), _cut(after), "value")
                    for part, before, after in expand(*shown, changed=changed)
                )
            elif isinstance(change, dict):
                if change.get("add"):
                    rows.append(ChangeRow(label, "", ", ".join(show(v) for v in change["add"]), "added"))
                if change.get("remove"):
                    rows.append(ChangeRow(label, ", ".join(show(v) for v in change["remove"]), "", "removed"))
            elif change == [REDACTED, REDACTED]:
                rows.append(ChangeRow(label, "", "", "redacted"))
            else:
                old, new = [*change, None, None][:2]
                rows.append(ChangeRow(label, show(old), show(new), "value"))
        entry.rows = rows
    return entries
