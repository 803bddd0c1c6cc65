"""Numbers as a person reads and types them: ``100`` rather than ``100.000`` or ``1E+2``."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal | None) -> str:
    """The number without trailing zeros and never in exponent form (``"" `` for ``None``)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def percent(value: Decimal | None) -> str:
    """``"10%"``, or ``"—"`` for nothing."""
    return f"{plain(value)}%" if value else "—"


def company_name() -> str:
    """The sender printed on quotes and their emails (``CRM_COMPANY_NAME``)."""
    from django.conf import settings
    from django.utils.translation import gettext as _

    return str(getattr(settings, "CRM_COMPANY_NAME", "") or _("Your company"))
