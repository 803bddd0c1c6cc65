from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "crm.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from crm.core import journal
        from crm.core.registry import DemoBuilder, Module, NavItem, SearchProvider, platform
        from crm.core.saved_views.registry import register_list

        from . import demo, selectors
        from .models import Company, Contact, ContactEmail, ContactPhone, CustomField, PastCompany, Tag

        journal.register(Company)
        journal.register(Contact, exclude=["name", "last_contacted_at"])
        journal.register(ContactEmail)
        journal.register(ContactPhone)
        journal.register(Tag)
        journal.register(CustomField)
        journal.register(PastCompany)
        all_actions = ("view", "create", "edit", "delete", "export")
        platform.register_module(
            Module(
                key="customers",
                label=_("Customers"),
                order=10,
                defaults={
                    "sales_manager": all_actions,
                    "sales_rep": ("view", "create", "edit"),
                    "marketing": ("view", "create", "edit", "export"),
                    "support_agent": ("view", "edit"),
                    "read_only": ("view",),
                },
            ),
            nav=[
                NavItem(_("Contacts"), "customers:contact_list", "ti-address-book", "customers", order=10),
                NavItem(_("Companies"), "customers:company_list", "ti-building", "customers", order=20),
            ],
        )
        platform.register_search(SearchProvider("contacts", _("Contacts"), "customers", selectors.contact_search))
        platform.register_search(SearchProvider("companies", _("Companies"), "customers", selectors.company_search))
        platform.register_demo(DemoBuilder("customers", demo.build, order=20))

        from .activities.registration import register as register_activities
        from .attachments import register as register_attachments
        from .custom_fields.registration import register as register_custom_fields
        from .io.registration import register as register_io
        from .merging.registration import register as register_merging

        register_activities()
        register_io()
        register_merging()
        register_custom_fields()
        register_attachments()
        register_list(
            "customers.contact",
            url_name="customers:contact_list",
            module="customers",
            label=_("Contacts"),
            view="crm.customers.views.contacts.ContactListView",
            defaults={"sort": "name"},
        )
        register_list(
            "customers.company",
            url_name="customers:company_list",
            module="customers",
            label=_("Companies"),
            view="crm.customers.views.companies.CompanyListView",
            defaults={"sort": "name"},
        )
