from django.db import models
from django.utils.translation import gettext_lazy as _


class BuiltinRole(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    MARKETING = "marketing", _("Marketing")
    SUPPORT_AGENT = "support_agent", _("Support agent")
    READ_ONLY = "read_only", _("Read-only")
