"""Trigram indexes on UPPER(name) of contacts and companies: on PostgreSQL they serve the lists' and
the global search's partial and misspelled name matches at a million rows. Nothing on SQLite."""

from django.db import migrations

from crm.core.postgres import trigram_index


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_call_duration_bound")]

    operations = [
        trigram_index(table="customers_contact", column="name", name="contact_name_trgm_idx"),
        trigram_index(table="customers_company", column="name", name="company_name_trgm_idx"),
    ]
