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
        from .phones import display_phone

        journal.register(Company, shown={"phone": display_phone})
        journal.register(Contact, exclude=["name", "last_contacted_at"], shown={"phone": display_phone})
        journal.register(ContactEmail)
        journal.register(ContactPhone, shown={"number": display_phone})
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
        self._register_personal_data()

    @staticmethod
    def _register_personal_data() -> None:
        """What privacy requests export and erase about a contact (see crm.core.privacy)."""
        from django.db.models import Q
        from django.db.models.functions import Coalesce, Greatest

        from crm.core import privacy
        from crm.core.privacy import ANONYMISE, DELETE, PersonalData, RetentionTarget, Subject, erased_name, erased_text

        from .models import Activity, Contact, ContactEmail, ContactPhone, PastCompany, Task

        def by_email(email: str):  # type: ignore[no-untyped-def]
            return Contact.objects.filter(Q(email__iexact=email) | Q(emails__email__iexact=email)).distinct()

        privacy.register_subject(
            Subject(
                "contact",
                _("Contact"),
                Contact,
                find_by_email=by_email,
                search=lambda q: by_email(q) if "@" in q else Contact.objects.filter(name__icontains=q),
                emails=lambda c: [e for e in {c.email, *c.emails.values_list("email", flat=True)} if e],
            )
        )
        blank = {
            "street": "",
            "city": "",
            "region": "",
            "postal_code": "",
            "date_of_birth": None,
            "id_number": "",
            "private_notes": "",
            "custom": {},
        }
        person = {"first_name": "", "last_name": "", "full_name": erased_name, "name": erased_name, "title": ""}
        channels = {"email": "", "phone": ""}
        privacy.register(
            PersonalData(
                "contact",
                Contact,
                find=lambda c: Contact.objects.filter(pk=c.pk),
                erase=ANONYMISE,
                anonymise={**person, **channels, **blank},
                order=900,
            )
        )
        for model in (ContactEmail, ContactPhone, PastCompany):
            privacy.register(
                PersonalData(
                    "contact",
                    model,
                    find=lambda c, m=model: m.objects.filter(contact=c),
                    erase=DELETE,
                    journal_link="contact",
                    order=500,
                )
            )
        privacy.register(
            PersonalData(
                "contact",
                Activity,
                find=lambda c: Activity.objects.filter(contact=c),
                erase=ANONYMISE,
                anonymise={"subject": erased_text, "body": erased_text, "location": ""},
                journal_link="contact",
            )
        )
        privacy.register(
            PersonalData(
                "contact",
                Task,
                find=lambda c: Task.objects.filter(contact=c),
                erase=ANONYMISE,
                anonymise={"title": erased_text, "notes": ""},
                journal_link="contact",
            )
        )
        # Retention rules: a contact is inactive since it was last contacted or changed.
        privacy.register_retention(
            RetentionTarget(
                "contact",
                _("Contacts"),
                Contact,
                records=lambda: Contact.objects.all(),
                inactive_since=lambda: Greatest(Coalesce("last_contacted_at", "updated_at"), "updated_at"),
                subject="contact",
            )
        )
