from django.db import models
from django.utils.translation import gettext_lazy as _


class JournalAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    VIEW = "view", _("Viewed sensitive fields")


class ChangeSource(models.TextChoices):
    """The path a change came by."""

    WEB = "web", _("Web")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    IMPORT = "import", _("Import")
    TASK = "task", _("Background task")
    COMMAND = "command", _("Command")
    SYSTEM = "system", _("System")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class DataScope(models.TextChoices):
    OWN = "own", _("Own records")
    TEAM = "team", _("Own team's records")
    ALL = "all", _("All records")


class Action(models.TextChoices):
    """What a role may do in a module."""

    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    EDIT = "edit", _("Edit")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
