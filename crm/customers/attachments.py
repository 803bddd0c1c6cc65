"""Companies and contacts take attachments: upload, preview, download and delete on their 360 pages
and at ``/api/v1/attachments/``, with the records' own access rules."""

from __future__ import annotations

RECORDS = ("customers.contact", "customers.company")


def register() -> None:
    """Companies and contacts take attachments (called from CustomersConfig.ready)."""
    from crm.core.attachments.panels import attachments_panel
    from crm.core.registry import platform

    from .models import Company, Contact

    platform.register_attachments(Company, module="customers")
    platform.register_attachments(Contact, module="customers")
    platform.register_panel(attachments_panel(key="attachments", module="customers", models=RECORDS, order=20))
