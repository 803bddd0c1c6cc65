"""Every table a backup holds: its columns, its primary key, its policy (``policies``), and the foreign
keys that point at it (a restore repeats what deleting a row did to the rows that referred to it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models

from crm.core import journal

from . import policies
from .codec import Column, column_of
from .policies import Policy

SKIPPED_TIMESTAMPS = ("created_at",)  # set once, at creation, with a journal entry
WINDOW_COLUMN = "updated_at"  # journaled rows saved without a journaled change still move this


@dataclass(frozen=True)
class Dependent:
    """A foreign key of ``table``'s ``column`` pointing at another table's key: what deleting the row
    it points at does (Django's ``on_delete``: cascade, set null)."""

    table: str
    column: str
    action: str  # "cascade" | "set_null"


@dataclass
class Table:
    name: str  # the database table
    label: str  # app_label.model_name
    model: Any
    pk: str  # the primary key's column
    columns: list[Column]
    policy: Policy
    window_column: str = ""  # JOURNAL: rows whose column moved in the window are read again
    dependents: list[Dependent] = field(default_factory=list)

    @property
    def pk_index(self) -> int:
        return next(i for i, c in enumerate(self.columns) if c.name == self.pk)

    @property
    def pk_kind(self) -> str:
        return self.columns[self.pk_index].kind

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def watched_columns(self) -> list[str]:
        """The columns a digest covers: the watched ones (JOURNAL), or the whole row (DIFF)."""
        if self.policy.kind == policies.DIFF:
            return self.column_names()
        by_name = {f.name: f.column for f in self.model._meta.local_concrete_fields}
        return [by_name[name] for name in self.policy.watch]


def _models() -> list[Any]:
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        found.append(model)
    return found


def excluded_journal_columns(model: Any) -> list[str]:
    """Fields of a journaled model whose changes the journal does not record (besides timestamps)."""
    tracked = {f.name for f in journal.tracked_fields(model)}
    skipped = {"created_at", "updated_at", "version"}
    return sorted(
        f.name
        for f in model._meta.local_concrete_fields
        if not f.primary_key and f.name not in tracked and f.name not in skipped
    )


def classify(model: Any) -> tuple[Policy, bool]:
    """The model's policy, and whether it is classified (``False``: the fallback, ``DIFF``)."""
    label = model._meta.label_lower
    if label in policies.TABLES:
        return policies.TABLES[label], True
    if journal.is_registered(model):
        watch, _follows = policies.JOURNAL_COLUMNS.get(label, ((), ()))
        return Policy(policies.JOURNAL, "the change journal", watch=watch), True
    if model._meta.auto_created:
        # The journal records changes of this many-to-many on its owner (a journaled model).
        for owner, m2m in journal._m2m_fields_for_through(model):
            reason = f"the many-to-many rows of {owner._meta.label}"
            return Policy(policies.FOLLOW, reason, owner=m2m.m2m_column_name()), True
    return Policy(policies.DIFF, "not classified: every row compared"), False


@cache
def tables() -> tuple[Table, ...]:
    """Every table of every installed app, sorted by name (computed once per process)."""
    found: dict[str, Table] = {}
    for model in _models():
        meta = model._meta
        policy, _known = classify(model)
        columns = [column_of(f) for f in meta.local_concrete_fields if not getattr(f, "generated", False)]
        names = {f.name for f in meta.local_concrete_fields}
        window = ""
        if policy.kind == policies.JOURNAL and WINDOW_COLUMN in names:
            window = meta.get_field(WINDOW_COLUMN).column
        found[meta.db_table] = Table(
            name=meta.db_table,
            label=meta.label_lower,
            model=model,
            pk=meta.pk.column,
            columns=columns,
            policy=policy,
            window_column=window,
        )
    for model in _models():
        for f in model._meta.local_concrete_fields:
            if not f.is_relation or f.remote_field is None or (not f.many_to_one and not f.one_to_one):
                continue
            action = _action(f.remote_field.on_delete)
            target = f.remote_field.model._meta.concrete_model._meta.db_table
            if action and target in found and model._meta.db_table in found:
                found[target].dependents.append(Dependent(model._meta.db_table, f.column, action))
    return tuple(found[name] for name in sorted(found))


def _action(on_delete: Any) -> str:
    if on_delete is models.CASCADE:
        return "cascade"
    if on_delete is models.SET_NULL:
        return "set_null"
    return ""


def by_name() -> dict[str, Table]:
    return {t.name: t for t in tables()}


def backed_up() -> list[Table]:
    return [t for t in tables() if t.policy.kind != policies.SKIP]


def unclassified() -> list[str]:
    """Models no policy names (they fall back to ``DIFF``)."""
    return sorted(m._meta.label_lower for m in _models() if not classify(m)[1])


def unclassified_journal_columns() -> list[str]:
    """Journal-excluded columns of journaled tables that are neither watched nor said to follow."""
    missing = []
    for model in _models():
        policy, _known = classify(model)
        if policy.kind != policies.JOURNAL:
            continue
        label = model._meta.label_lower
        watch, follows = policies.JOURNAL_COLUMNS.get(label, ((), ()))
        for name in excluded_journal_columns(model):
            if name not in watch and name not in follows:
                missing.append(f"{label}.{name}")
    return missing
