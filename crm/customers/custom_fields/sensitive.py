"""Values of custom fields as the current viewer may see them.

A field marked sensitive shows ``MASK`` to a role without the "view sensitive fields" permission, on
the 360 pages, in list columns, in the API and in exports; for a role with it the value is shown and
the read noted for the audit log. Both go through ``crm.core.crypto.masking.shown``. Other fields are
shown as they are.
"""

from __future__ import annotations

from typing import Any

from crm.core.crypto import masking

from .values import Display, display, is_empty, to_export


def shown(record: Any, definition: Any, value: Any) -> Any:
    """``value`` (of ``definition`` on ``record``), or ``MASK`` when the viewer may not see it."""
    if not definition.sensitive or is_empty(value):
        return value
    return masking.shown(record, value)


def shown_display(record: Any, definition: Any, value: Any) -> Display | None:
    """``values.display`` of a value the viewer may see; ``MASK`` (with no link) otherwise."""
    if is_empty(value):
        return None
    if definition.sensitive and _masked(masking.shown(record, value)):
        return Display(masking.MASK)
    return display(definition, value)


def shown_export(record: Any, definition: Any, value: Any) -> Any:
    """``values.to_export`` of a value the viewer may see; ``MASK`` otherwise."""
    cell = to_export(definition, value)
    if not definition.sensitive or is_empty(value):
        return cell
    return masking.MASK if _masked(masking.shown(record, value)) else cell


def _masked(result: Any) -> bool:
    return isinstance(result, str) and result == masking.MASK
