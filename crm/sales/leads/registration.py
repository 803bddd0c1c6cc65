"""How leads, their assignment and the sales settings plug into the platform (called from SalesConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register pages, journal, search, demo data and tasks with the platform."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, SearchProvider, platform
    from crm.core.saved_views.registry import register_list

    from ..models import AssignmentRule, Lead, SalesSettings
    from . import demo, selectors
    from . import tasks as _tasks  # noqa: F401 - registers the Celery tasks wherever Django starts (worker, beat)
    from .io.tasks import LEAD_IMPORT, lead_import_task

    # The score is recomputed whenever rules or the model change, and "last worked" moves with every
    # call: both are bookkeeping, not edits anyone made. The round-robin cursor likewise.
    journal.register(Lead, exclude=["score", "rule_score", "model_score", "score_reasons", "touched_at"])
    journal.register(AssignmentRule, exclude=["last_assigned"])
    journal.register(SalesSettings)

    platform.register_module(
        platform.modules["sales"],
        nav=[NavItem(_("Leads"), "sales:lead_list", "ti-user-search", "sales", order=50)],
    )
    # The settings pages of administrators (users, teams, roles) are those of the "accounts" module.
    for item in (
        NavItem(
            _("Lead assignment"),
            "sales:assignment_rule_list",
            "ti-arrows-split",
            "accounts",
            order=940,
            section="admin",
        ),
        NavItem(
            _("Sales settings"), "sales:sales_settings", "ti-settings-dollar", "accounts", order=945, section="admin"
        ),
    ):
        if all(existing.url_name != item.url_name for existing in platform.nav):
            platform.nav.append(item)
    platform.nav.sort(key=lambda entry: entry.order)
    platform.register_job(LEAD_IMPORT, lead_import_task, label=_("Lead import"))
    platform.register_search(SearchProvider("leads", _("Leads"), "sales", selectors.lead_search))
    platform.register_demo(DemoBuilder("sales-leads", demo.build, order=35))
    register_list(
        "sales.lead",
        url_name="sales:lead_list",
        module="sales",
        label=_("Leads"),
        view="crm.sales.leads.views.LeadListView",
        filterset="crm.sales.leads.filtersets.LeadFilterSet",
        columns=(),
        defaults={"sort": "-created"},
    )
    register_personal_data()


def register_personal_data() -> None:
    """What privacy requests export and erase about a lead, and the leads of a contact (crm.core.privacy)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q
    from django.db.models.functions import Coalesce, Greatest

    from crm.core import privacy
    from crm.core.privacy import ANONYMISE, PersonalData, RetentionTarget, Subject, erased_name, erased_text
    from crm.customers.models import Activity

    from ..choices import LeadStatus
    from ..models import Lead

    privacy.register_subject(
        Subject(
            "lead",
            _("Lead"),
            Lead,
            find_by_email=lambda email: Lead.objects.filter(email__iexact=email),
            search=lambda q: (
                Lead.objects.filter(email__iexact=q) if "@" in q else Lead.objects.filter(name__icontains=q)
            ),
            emails=lambda lead: [lead.email] if lead.email else [],
        )
    )
    anonymised = {
        **dict.fromkeys(("first_name", "last_name", "title", "email", "phone", "notes", "interest"), ""),
        "name": erased_name,
        "marketing_consent": False,
    }
    activity_texts = {"subject": erased_text, "body": erased_text, "location": ""}

    def lead_activities(leads):  # type: ignore[no-untyped-def]
        kind = ContentType.objects.get_for_model(Lead)
        return Activity.objects.filter(related_type=kind, related_id__in=leads.values("pk"))

    def contact_leads(contact):  # type: ignore[no-untyped-def]
        emails = {contact.email, *contact.emails.values_list("email", flat=True)} - {""}
        by_email = Q()
        for email in emails:
            by_email |= Q(email__iexact=email)
        return Lead.objects.filter(Q(contact=contact) | by_email) if emails else Lead.objects.filter(contact=contact)

    one = lambda lead: Lead.objects.filter(pk=lead.pk)  # noqa: E731
    privacy.register(PersonalData("lead", Lead, find=one, erase=ANONYMISE, anonymise=anonymised, order=900))
    privacy.register(
        PersonalData(
            "lead", Activity, find=lambda lead: lead_activities(one(lead)), erase=ANONYMISE, anonymise=activity_texts
        )
    )
    # A contact's leads: the one converted into them and any with one of their email addresses (found
    # before the contact's addresses are deleted).
    privacy.register(PersonalData("contact", Lead, find=contact_leads, erase=ANONYMISE, anonymise=anonymised, order=40))
    privacy.register(
        PersonalData(
            "contact",
            Activity,
            find=lambda c: lead_activities(contact_leads(c)),
            erase=ANONYMISE,
            anonymise=activity_texts,
            key="contact:sales.lead-activities",
            order=45,
        )
    )
    # Retention rules: unconverted leads, inactive since last worked or changed.
    privacy.register_retention(
        RetentionTarget(
            "lead",
            _("Unconverted leads"),
            Lead,
            records=lambda: Lead.objects.exclude(status=LeadStatus.CONVERTED).filter(converted_at__isnull=True),
            inactive_since=lambda: Greatest(Coalesce("touched_at", "updated_at"), "updated_at"),
            subject="lead",
            before_delete=lambda ids: (
                lead_activities(Lead.objects.filter(pk__in=ids))
                .filter(contact__isnull=True, company__isnull=True)
                .delete()
            ),
        )
    )
