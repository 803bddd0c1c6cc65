"""The contact picker of the deal form in a real browser: type part of a name, pick two contacts as
chips, remove one, save; the deal keeps the one left. Contacts outside the user's scope are never
offered."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(db):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers import services
    from crm.customers.models import Company
    from crm.sales.tests.factories import make_pipeline

    roles_sync_builtin()
    make_pipeline()
    rep = UserFactory(username="rep", role=Role.objects.get(builtin="sales_rep"))
    other = UserFactory(username="other", role=Role.objects.get(builtin="sales_rep"))
    acme = Company.objects.create(name="Acme Berlin", owner=rep)
    for name in ("Zora Mine", "Zeno Mine"):
        services.contact_create(actor=rep, data={"full_name": name, "company": acme})
    services.contact_create(actor=other, data={"full_name": "Zara Hidden"})
    return rep


def test_pick_contacts_for_a_deal_with_the_picker(live_server, page, people):
    from crm.sales.models import Deal

    browser_sign_in(page, live_server, "rep")

    page.goto(f"{live_server.url}/sales/deals/new/")
    page.fill("input[name=name]", "Picker deal")
    box = page.locator("#id_contacts_search")
    box.click()
    box.press_sequentially("z", delay=30)
    options = page.locator("#id_contacts_results [data-autocomplete-pick]")
    expect(options).to_have_count(2)
    offered = " ".join(options.all_inner_texts())
    assert "Zeno Mine" in offered and "Zora Mine" in offered and "Acme Berlin" in offered
    assert "Zara Hidden" not in offered
    options.filter(has_text="Zora Mine").click()
    chips = page.locator("[data-autocomplete-multiple=contacts] [data-autocomplete-chip]")
    expect(chips).to_have_count(1)

    box.fill("")
    box.press_sequentially("zeno", delay=30)
    expect(options).to_have_count(1)
    options.first.click()
    expect(chips).to_have_count(2)
    chips.filter(has_text="Zora Mine").locator("[data-autocomplete-remove]").click()
    expect(chips).to_have_count(1)

    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/sales/deals/new/" not in url)
    deal = Deal.objects.get(name="Picker deal")
    assert [contact.name for contact in deal.contacts.all()] == ["Zeno Mine"]
