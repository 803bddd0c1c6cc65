"""PostgreSQL-only speed-ups, behind small functions with a portable fallback (SQLite: nothing).

Django's ``icontains`` on PostgreSQL compiles to ``UPPER(column) LIKE UPPER('%x%')``; a trigram index
built on ``UPPER(column)`` serves it (and typo-tolerant similarity searches). On SQLite the same
queries run without it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def _trigram_forward(table: str, column: str, name: str) -> Any:
    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}") gin_trgm_ops)'
        )

    return forward


def _trigram_backward(name: str) -> Any:
    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return backward


def trigram_index(*, table: str, column: str, name: str) -> migrations.RunPython:
    """A migration operation adding a trigram index on ``UPPER(column)`` where the database has them."""
    return migrations.RunPython(_trigram_forward(table, column, name), _trigram_backward(name), elidable=False)


def similarity_supported(connection: Any) -> bool:
    """Whether ``TrigramSimilarity`` lookups (misspelled names) can be used on this connection."""
    return connection.vendor == "postgresql"
