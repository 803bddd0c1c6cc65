"""Demo leads: two years of them, with seasons, and conversions a model can learn from; built once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from crm.accounts.tests.factories import UserFactory
from crm.core.registry import platform
from crm.customers.models import Activity
from crm.sales.leads import demo
from crm.sales.models import Lead

pytestmark = pytest.mark.django_db


def rate(leads: list[Lead], condition) -> float:
    chosen = [lead for lead in leads if condition(lead) and lead.status in ("converted", "unqualified", "contacted")]
    return sum(lead.status == "converted" for lead in chosen) / max(1, len(chosen))


def test_demo_leads(roles):
    assert platform.demo["sales-leads"].order == 35
    for index in range(3):
        UserFactory(username=f"demo-rep{index}", role=roles["sales_rep"])
    demo.build()
    leads = list(Lead.objects.all())
    assert 1400 <= len(leads) <= 1600
    statuses = Counter(lead.status for lead in leads)
    assert 0.25 <= statuses["converted"] / len(leads) <= 0.35
    assert 0.15 <= statuses["unqualified"] / len(leads) <= 0.25
    # two years, with more leads in spring and autumn than in high summer
    ages = [(timezone.now() - lead.created_at).days for lead in leads]
    assert max(ages) > 600 and min(ages) < 30
    months = Counter(lead.created_at.month for lead in leads)
    assert months[4] + months[10] > months[7] + months[8]
    # conversions follow what a model can learn
    assert rate(leads, lambda lead: lead.source == "referral") > rate(leads, lambda lead: lead.source == "cold_call")
    free = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de", "qq.com", "163.com", "126.com")
    assert rate(leads, lambda lead: not lead.email.endswith(free)) > rate(leads, lambda lead: lead.email.endswith(free))
    assert rate(leads, lambda lead: lead.company_size in ("1001-5000", "5000+")) > rate(
        leads, lambda lead: lead.company_size == "1-10"
    )
    assert any("王" in lead.name or "李" in lead.name for lead in leads)
    assert all(lead.owner_id for lead in leads)
    assert Activity.objects.filter(related_id__isnull=False).count() > 300
    # idempotent
    demo.build()
    assert Lead.objects.count() == len(leads)


def test_converted_demo_leads_link_to_demo_customers_and_deals(roles):
    from crm.customers.models import Company, Contact
    from crm.sales.tests.factories import make_deal

    rep = UserFactory(username="demo-rep", role=roles["sales_rep"])
    for index in range(5):
        company = Company.objects.create(name=f"Demo {index}", owner=rep)
        Contact.objects.create(first_name=f"Person {index}", company=company, owner=rep, email=f"p{index}@demo.example")
        make_deal(owner=rep, company=company, name=f"Deal {index}")
    demo.build()
    linked = Lead.objects.filter(status="converted", contact__isnull=False)
    assert linked.count() > 100
    lead = linked.filter(deal__isnull=False).select_related("contact", "company", "deal").first()
    assert lead.contact.company == lead.company == lead.deal.company
    assert lead.company_name == lead.company.name and lead.name == lead.contact.name
