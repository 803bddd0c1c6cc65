from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataProtectionConfig(AppConfig):
    name = "crm.dataprotection"
    label = "dataprotection"
    verbose_name = _("Data protection")

    def ready(self) -> None:
        from crm.core import journal, privacy
        from crm.core.registry import Module, NavItem, RecordPanel, platform

        from . import panels, selectors
        from . import tasks as _tasks  # registers the Celery tasks wherever Django starts (worker, beat)
        from .models import BackupRecipient, BackupSettings, PrivacyRequest, RetentionRule

        # The ids an erasure works through are bookkeeping, not a change anyone made.
        journal.register(PrivacyRequest, exclude=["state"])
        journal.register(RetentionRule)
        # Who changed the backup schedule or the keys backups are encrypted to (the audit log).
        journal.register(BackupSettings, exclude=["full_required", "updated_by"])
        journal.register(BackupRecipient)
        # Administrators get every action of a new module; no other built-in role gets any.
        platform.register_module(
            Module(key="dataprotection", label=_("Data privacy"), order=90, defaults={}),
            nav=[
                NavItem(
                    _("Privacy requests"),
                    "dataprotection:request_list",
                    "ti-shield-lock",
                    "dataprotection",
                    order=960,
                    section="admin",
                ),
                NavItem(
                    _("Retention rules"),
                    "dataprotection:retention_list",
                    "ti-hourglass",
                    "dataprotection",
                    order=961,
                    section="admin",
                ),
                NavItem(
                    _("Backups"),
                    "dataprotection:backup_list",
                    "ti-database-export",
                    "dataprotection",
                    order=962,
                    section="admin",
                ),
            ],
        )
        platform.register_job(_tasks.PRIVACY_EXPORT, _tasks.privacy_export_task, label=_("Privacy export"))
        platform.register_job(_tasks.PRIVACY_ERASE, _tasks.privacy_erase_task, label=_("Erasure"))
        platform.register_job(_tasks.RETENTION_APPLY, _tasks.retention_apply_job_task, label=_("Retention rule"))
        platform.register_job(_tasks.BACKUP_RUN, _tasks.backup_run_job_task, label=_("Backup"))
        platform.register_job(_tasks.BACKUP_VERIFY, _tasks.backup_verify_job_task, label=_("Backup check"))
        platform.register_panel(
            RecordPanel(
                key="privacy",
                template="dataprotection/panel_privacy.html",
                module="dataprotection",
                models=("customers.contact", "sales.lead"),
                context=panels.privacy_context,
                order=200,
                column="side",
            )
        )
        privacy.privacy.register_suppression(selectors.suppressed_hashes)
