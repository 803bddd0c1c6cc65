from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        from . import checks, journal, signals  # noqa: F401  (deploy checks; task context for the journal)
        from .crypto import keyring
        from .models import Attachment, SavedView
        from .registry import Module, NavItem, platform
        from .tasks import AUDIT_EXPORT, audit_export_task

        journal.register(Attachment, exclude=["sha256"])
        journal.register(SavedView)
        platform.register_job(AUDIT_EXPORT, audit_export_task, label=_("Audit log export"))
        platform.register_module(
            Module(key="audit", label=_("Audit log"), actions=("view", "export"), order=950),
            nav=[NavItem(_("Audit log"), "core:audit_log", "ti-history", "audit", order=950, section="admin")],
        )
        # Roles that work with customers one by one see phone numbers and addresses; the others see
        # them masked unless an administrator grants it.
        people = ("view",)
        platform.register_module(
            Module(
                key="sensitive",
                label=_("Sensitive fields"),
                actions=("view",),
                order=940,
                defaults={"sales_manager": people, "sales_rep": people, "support_agent": people},
            )
        )
        try:
            keyring.load()
        except keyring.CryptoError as exc:
            raise ImproperlyConfigured(str(exc)) from None
