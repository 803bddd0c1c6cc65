"""GIN indexes on the custom field values of contacts and companies: on PostgreSQL they serve the
lists' exact custom field filters (one choice, several choices, yes/no), which ask
``custom @> '{"key": value}'``, at a million rows. Nothing on SQLite."""

from typing import Any

from django.db import migrations

INDEXES = (("customers_contact", "contact_custom_gin_idx"), ("customers_company", "company_custom_gin_idx"))


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ("custom" jsonb_path_ops)')


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_custom_fields_duplicates_past_companies")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
