"""Shared set-up of the privacy request tests: a person present in every module."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crm.core.attachments import services as attachment_services
from crm.core.tests import attachment_samples as samples
from crm.customers import services as customer_services
from crm.customers.activities.services import activity_log
from crm.customers.models import Task
from crm.sales.tests.factories import make_deal, make_lead

EMAIL = "ada.private@example.com"
SECOND_EMAIL = "ada@home.example"
PHONE = "+442079460018"


def make_person(user: Any) -> dict[str, Any]:
    contact = customer_services.contact_create(
        actor=user,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "Countess",
            "street": "12 St James's Square",
            "city": "London",
            "emails": [{"email": EMAIL}, {"email": SECOND_EMAIL}],
            "phones": [{"number": PHONE}],
        },
    )
    customer_services.contact_update(
        actor=user, contact=contact, data={"title": "Mathematician"}, version=contact.version
    )
    contact.refresh_from_db()
    note = activity_log(actor=user, data={"kind": "note", "body": "Ada likes engines", "contact": contact})
    task = Task.objects.create(
        title="Call Ada Lovelace", notes="About engines", assignee=user, owner=user, contact=contact
    )
    lead = make_lead(owner=user, name="Ada L.", email=EMAIL.upper(), notes="Met Ada at a fair")
    lead_note = activity_log(actor=user, data={"kind": "note", "body": "Lead Ada called", "related": lead})
    deal = make_deal(owner=user, name="Engine", amount=Decimal("1200.00"), currency="EUR")
    deal.contacts.add(contact)
    attachment = attachment_services.attachment_upload(
        actor=user, obj=contact, file=samples.upload("passport-ada.txt", samples.TEXT)
    )
    return {
        "contact": contact,
        "note": note,
        "task": task,
        "lead": lead,
        "lead_note": lead_note,
        "deal": deal,
        "attachment": attachment,
    }
