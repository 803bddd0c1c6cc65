from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register this part of the customers module with the platform (called from CustomersConfig.ready)."""
    from crm.core.registry import platform

    from .tasks import (
        COMPANY_EXPORT,
        CONTACT_EXPORT,
        CONTACT_IMPORT,
        CONTACT_VCARD_IMPORT,
        contact_import_task,
        customer_export_task,
    )

    platform.register_job(CONTACT_IMPORT, contact_import_task, label=_("Contact import"))
    platform.register_job(CONTACT_VCARD_IMPORT, contact_import_task, label=_("vCard import"))
    platform.register_job(CONTACT_EXPORT, customer_export_task, label=_("Contact export"))
    platform.register_job(COMPANY_EXPORT, customer_export_task, label=_("Company export"))
