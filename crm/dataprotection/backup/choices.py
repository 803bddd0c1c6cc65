from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupKind(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Incremental")


class BackupStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETE = "complete", _("Complete")
    FAILED = "failed", _("Failed")


class VerifyStatus(models.TextChoices):
    NONE = "", _("Not verified")
    OK = "ok", _("Verified")
    FAILED = "failed", _("Verification failed")


class VerifyLevel(models.TextChoices):
    STORED = "stored", _("Stored file checked")
    RESTORED = "restored", _("Restored and compared")


class DestinationKind(models.TextChoices):
    LOCAL = "local", _("Local folder")
    S3 = "s3", _("S3-compatible storage")


class FullFrequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    NEVER = "never", _("Only when started by hand")
