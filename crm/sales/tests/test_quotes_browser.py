"""The quote form in a real browser: a line added with htmx, a product picked (its price and tax fill
in), the totals following, a line removed, the draft saved."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("QUOTE_SCREENSHOTS", "")  # a folder to keep screenshots in, when set


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


def test_build_a_quote_in_the_form(live_server, browser):
    from playwright.sync_api import expect

    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.accounts.tests.factories import PASSWORD, UserFactory
    from crm.sales.models import Quote
    from crm.sales.tests.test_quotes_helpers import deal_with_contact, product

    roles_sync_builtin()
    rep = UserFactory(username="rep", role=Role.objects.get(builtin="sales_manager"))
    deal, _contact = deal_with_contact(rep)
    product("LIC-1", name="CRM licence", price="480.00", tax="20")
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "rep")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/sales/quotes/new/?deal={deal.pk}")
    add = page.get_by_test_id("add-line")
    add.click()
    expect(page.locator("[name=lines-0-product]")).to_be_visible()
    # htmx wires up the new row's triggers when its swap settles; a pick before that would go unheard.
    page.wait_for_function(SETTLED)
    page.select_option("[name=lines-0-product]", label="CRM licence (LIC-1)")
    expect(page.locator("[name=lines-0-unit_price]")).to_have_value("480.00")
    expect(page.locator("[name=lines-0-description]")).to_have_value("CRM licence")
    page.wait_for_function(SETTLED)
    page.fill("[name=lines-0-quantity]", "2")
    add.click()
    expect(page.locator("[name=lines-1-description]")).to_be_visible()
    page.wait_for_function(SETTLED)
    expect(page.locator("#id_lines-TOTAL_FORMS")).to_have_value("2")
    page.fill("[name=lines-1-description]", "Workshop")
    page.fill("[name=lines-1-unit_price]", "1000")
    page.locator("[name=lines-1-unit_price]").dispatch_event("change")
    expect(page.locator("#quote-totals [data-total=total]")).to_have_text("$2,152.00")
    add.click()
    expect(page.locator("[name=lines-2-description]")).to_be_visible()
    page.wait_for_function(SETTLED)
    page.fill("[name=lines-2-description]", "Not wanted")
    page.fill("[name=lines-2-unit_price]", "5")
    page.locator("[data-line]").nth(2).locator("[data-line-remove]").click()
    expect(page.locator("[data-line]").nth(2)).to_be_hidden()
    shot(page, "quote-form")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(f"{live_server.url}/sales/quotes/*/")
    created = Quote.objects.get()
    assert [line.description for line in created.lines.order_by("position")] == ["CRM licence", "Workshop"]
    assert created.total == Decimal("2152.00")
    expect(page.locator("[data-total=total]")).to_have_text("$2,152.00")
    shot(page, "quote-detail")
    context.close()
