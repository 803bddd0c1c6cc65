"""How custom fields plug into the platform: the Settings entry, forgetting the remembered definitions
whenever one is saved or deleted (whatever path did it), and a fresh memory for each request."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def _forget(**kwargs: Any) -> None:
    from .selectors import forget_definitions

    forget_definitions()


def register() -> None:
    """Register this part of the customers module with the platform (called from CustomersConfig.ready)."""
    from django.core.signals import request_started
    from django.db.models.signals import post_delete, post_save

    from crm.core.registry import NavItem, platform

    from ..models import CustomField
    from .selectors import reset_request_memo

    # The settings pages of administrators (users, teams, roles) are those of the "accounts" module.
    item = NavItem(
        _("Custom fields"), "customers:custom_field_list", "ti-forms", "accounts", order=930, section="admin"
    )
    if all(existing.url_name != item.url_name for existing in platform.nav):
        platform.nav.append(item)
        platform.nav.sort(key=lambda entry: entry.order)
    post_save.connect(_forget, sender=CustomField, dispatch_uid="customers.custom_fields.forget_on_save")
    post_delete.connect(_forget, sender=CustomField, dispatch_uid="customers.custom_fields.forget_on_delete")
    request_started.connect(reset_request_memo, dispatch_uid="customers.custom_fields.reset_request_memo")
