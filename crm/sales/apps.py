from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "crm.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from crm.core.registry import Module, platform

        all_actions = ("view", "create", "edit", "delete", "export")
        platform.register_module(
            Module(
                key="sales",
                label=_("Sales"),
                order=20,
                defaults={
                    "sales_manager": all_actions,
                    "sales_rep": ("view", "create", "edit"),
                    "marketing": ("view",),
                    "support_agent": ("view",),
                    "read_only": ("view",),
                },
            ),
        )
        # Each part of the module registers its pages, search, journal, timeline, demo data and
        # scheduled work with the platform itself.
        from .deals.registration import register as register_deals
        from .forecasting.registration import register as register_forecasting
        from .leads.registration import register as register_leads
        from .quotes.registration import register as register_quotes
        from .scoring.registration import register as register_scoring
        from .webforms.registration import register as register_webforms

        register_deals()
        register_leads()
        register_webforms()
        register_scoring()
        register_quotes()
        register_forecasting()
