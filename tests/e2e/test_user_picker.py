"""The people picker in a real browser: the owner filter of the contact list, the bulk bar's "assign
owner", on a desktop with the keyboard and on a phone with taps; and the company picker it shares
its code with."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import TeamFactory, UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(db):
    """A manager who sees every contact, colleagues who own some, and many other people."""
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Contact

    roles_sync_builtin()
    manager = UserFactory(
        username="mia", first_name="Mia", last_name="Manager", role=Role.objects.get(builtin="sales_manager")
    )
    ada = UserFactory(username="ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    grace = UserFactory(username="grace", first_name="Grace", last_name="Hopper", email="grace@example.com")
    for index in range(60):
        UserFactory(username=f"colleague{index}", first_name="Colleague", last_name=f"Number {index}")
    TeamFactory(name="Sales", members=[manager, ada, grace])  # the manager sees the team's contacts
    for name in ("Anna", "Bert"):
        Contact.objects.create(first_name=name, last_name="Of Ada", owner=ada)
    for name in ("Carl", "Dora"):
        Contact.objects.create(first_name=name, last_name="Of Grace", owner=grace)
    return {"manager": manager, "ada": ada, "grace": grace}


def wait_for_query(page, part):
    page.wait_for_function("part => window.location.search.includes(part)", arg=part)


def row_names(page):
    return sorted(name.strip() for name in page.locator(".crm-col-name a").all_inner_texts())


def test_type_into_the_owner_filter_and_pick_with_the_keyboard(live_server, page, team):
    browser_sign_in(page, live_server, "mia")
    page.goto(f"{live_server.url}/contacts/")
    assert len(row_names(page)) == 4
    # The page lists nobody: the 63 people are searched, not rendered.
    assert page.locator("[data-autocomplete-pick]").count() == 0
    assert "Colleague Number 17" not in page.content()

    box = page.locator("#id_owner_search")
    box.click()
    box.press_sequentially("lovel", delay=30)
    option = page.locator("#id_owner_results [data-autocomplete-pick]")
    expect(option).to_have_count(1)
    assert "Ada Lovelace" in option.first.inner_text()
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == option.first.get_attribute("id")
    box.press("Enter")

    wait_for_query(page, f"owner={team['ada'].pk}")
    page.wait_for_function("() => document.querySelectorAll('.crm-col-name a').length === 2")
    assert row_names(page) == ["Anna Of Ada", "Bert Of Ada"]
    assert box.input_value() == "Ada Lovelace"
    assert "/people/autocomplete/" not in page.url

    # Escape closes the suggestions and keeps the choice.
    box.fill("gra")
    expect(page.locator("#id_owner_results [data-autocomplete-pick]")).to_have_count(1)
    box.press("Escape")
    assert page.locator("#id_owner_results [data-autocomplete-pick]").count() == 0
    box.press("Tab")
    assert box.input_value() == "Ada Lovelace" and f"owner={team['ada'].pk}" in page.url

    # The clear button shows everybody's contacts again.
    page.click("#id_owner_search ~ [data-autocomplete-clear]")
    page.wait_for_function("() => document.querySelectorAll('.crm-col-name a').length === 4")
    assert "owner=" not in page.url


def test_pick_an_owner_on_a_phone(live_server, browser, team):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_sign_in(page, live_server, "mia")
        page.goto(f"{live_server.url}/contacts/")
        page.tap("[data-toggle-filters]")
        page.tap("#id_owner_search")
        page.locator("#id_owner_search").press_sequentially("hopper", delay=30)
        option = page.locator("#id_owner_results [data-autocomplete-pick]")
        expect(option).to_have_count(1)
        option.tap()
        wait_for_query(page, f"owner={team['grace'].pk}")
        page.wait_for_function("() => document.querySelectorAll('.crm-col-name a').length === 2")
        assert row_names(page) == ["Carl Of Grace", "Dora Of Grace"]
    finally:
        context.close()


def test_assign_an_owner_to_picked_rows(live_server, page, team):
    from crm.customers.models import Contact

    browser_sign_in(page, live_server, "mia")
    page.goto(f"{live_server.url}/contacts/?owner={team['ada'].pk}")
    page.check("[data-bulk-all]")
    page.select_option("[data-bulk-action]", "assign_owner")
    owner = page.locator("#bulk-owner_search")
    assert owner.is_visible() and owner.input_value() == "Mia Manager"  # oneself, to start with
    owner.click()
    owner.fill("")
    owner.press_sequentially("grace h", delay=30)
    option = page.locator("#bulk-owner_results [data-autocomplete-pick]")
    expect(option).to_have_count(1)
    option.click()
    assert page.input_value("#bulk-owner") == str(team["grace"].pk)
    page.click("[data-bulk-apply]")
    page.wait_for_selector(".alert-success")
    assert set(Contact.objects.filter(last_name="Of Ada").values_list("owner_id", flat=True)) == {team["grace"].pk}


def test_the_company_picker_still_suggests_and_picks(live_server, page, team):
    from crm.customers.models import Company

    holding = Company.objects.create(name="Acme Holding", owner=team["manager"])
    browser_sign_in(page, live_server, "mia")
    page.goto(f"{live_server.url}/companies/new/")
    page.fill("input[name=name]", "Acme Subsidiary")
    box = page.locator("#id_parent_search")
    box.click()
    box.press_sequentially("acme h", delay=30)
    expect(page.locator("#id_parent_results [data-autocomplete-pick]")).to_have_count(1)
    box.press("ArrowDown")
    box.press("Enter")
    assert box.input_value() == "Acme Holding" and page.input_value("input[name=parent]") == str(holding.pk)
    page.locator("form.crm-record-form button.btn-primary[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/companies/\d+/$"))
    assert Company.objects.get(name="Acme Subsidiary").parent == holding
