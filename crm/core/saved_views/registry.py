"""The lists that take saved views: their key, page, permission module, filters and columns.

A list registers itself from its app's ``AppConfig.ready()``::

    from crm.core.saved_views.registry import register_list

    register_list("customers.contact", url_name="customers:contact_list", module="customers",
                  label=_("Contacts"), view="crm.customers.views.contacts.ContactListView",
                  defaults={"sort": "name"})

``view`` (a class or its import path) supplies what is not given: ``filterset_class`` (which
parameters a saved query may keep: the filters of an instance, so filters it adds when it is built
count too), ``all_columns()`` or ``columns`` (which column keys exist; ``columns`` may also be given
as a callable) and ``default_columns``. Import paths are resolved on first use, so registering
imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

# Parameters of every list besides its filters: the sort order. Page cursors are never kept.
LIST_PARAMS: tuple[str, ...] = ("sort",)
PAGE_PARAMS: frozenset[str] = frozenset({"after", "before", "page"})


def columns_session_key(list_key: str) -> str:
    """Where a list keeps the columns a person chose, in the session: ``"customers.contact"`` ->
    ``"customers.columns.contact"``."""
    app, _dot, name = list_key.partition(".")
    return f"{app}.columns.{name}" if name else f"columns.{app}"


def _resolve(value: Any) -> Any:
    return import_string(value) if isinstance(value, str) else value


def _keys(columns: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(getattr(column, "key", column)) for column in columns)


@dataclass(frozen=True)
class ListSpec:
    key: str
    url_name: str
    module: str
    label: Any = ""
    view: Any = None
    filterset: Any = None
    columns: Any = None
    default_columns: Any = None
    params: tuple[str, ...] = LIST_PARAMS
    # Values that mean the same as no value (the default sort): left out of saved queries.
    defaults: tuple[tuple[str, str], ...] = ()

    def _from_view(self, given: Any, attribute: str, default: Any) -> Any:
        if given is not None:
            return _resolve(given)
        view = _resolve(self.view)
        return getattr(view, attribute, default) if view is not None else default

    def filter_names(self) -> frozenset[str]:
        """The parameters a saved query keeps: the filter set's filters (those it adds when it is built,
        e.g. for custom fields, included) and the list's own (the sort)."""
        filterset = self._from_view(self.filterset, "filterset_class", None)
        names: set[str] = set()
        if filterset is not None:
            names |= set(getattr(filterset(None), "filters", {}) or {})
        return frozenset(names | set(self.params)) - PAGE_PARAMS

    def column_keys(self) -> tuple[str, ...]:
        """Every column the list has (those it adds for custom fields included), in its order."""
        columns = _resolve(self.columns)
        if columns is None and self.view is not None:
            view = _resolve(self.view)
            all_columns = getattr(view, "all_columns", None)
            columns = view().all_columns if callable(all_columns) else getattr(view, "columns", ())
        if callable(columns):
            columns = columns()
        return _keys(columns or ())

    @cached_property
    def default_column_keys(self) -> tuple[str, ...]:
        return _keys(self._from_view(self.default_columns, "default_columns", ()) or ())

    @property
    def session_key(self) -> str:
        return columns_session_key(self.key)

    def url(self) -> str:
        return reverse(self.url_name)


_lists: dict[str, ListSpec] = {}


def register_list(
    key: str,
    *,
    url_name: str,
    module: str,
    label: Any = "",
    view: Any = None,
    filterset: Any = None,
    columns: Any = None,
    default_columns: Any = None,
    params: tuple[str, ...] = LIST_PARAMS,
    defaults: dict[str, str] | None = None,
) -> ListSpec:
    spec = ListSpec(
        key=key,
        url_name=url_name,
        module=module,
        label=label or key,
        view=view,
        filterset=filterset,
        columns=columns,
        default_columns=default_columns,
        params=params,
        defaults=tuple(sorted((defaults or {}).items())),
    )
    _lists[key] = spec
    return spec


def get_list(key: str | None) -> ListSpec | None:
    """The registered list ``key`` ("customers.contact"), or ``None``."""
    if not key or not isinstance(key, str):
        return None
    return _lists.get(key)


def registered_lists() -> list[ListSpec]:
    return sorted(_lists.values(), key=lambda spec: spec.key)


def list_for_url_name(url_name: str | None) -> ListSpec | None:
    """The list whose page is ``url_name`` ("customers:contact_list"), or ``None``."""
    if not url_name:
        return None
    return next((spec for spec in registered_lists() if spec.url_name == url_name), None)


def list_url(spec: ListSpec, query: str = "") -> str:
    try:
        base = spec.url()
    except NoReverseMatch:
        return "/"
    return f"{base}?{query}" if query else base
