"""The list's bulk bar in a real browser: the count of picked rows and the merge button, which asks
for two to ten records."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_merge_is_offered_for_two_to_ten_picked_contacts(live_server, page):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Contact

    roles_sync_builtin()
    manager = UserFactory(username="mia", role=Role.objects.get(builtin="administrator"))
    for index in range(12):
        Contact.objects.create(first_name="Person", last_name=f"{index:02d}", owner=manager)
    browser_sign_in(page, live_server, "mia")

    page.goto(f"{live_server.url}/contacts/")
    merge = page.locator("[data-bulk-merge]")
    count = page.locator("[data-bulk-count]")
    expect(merge).to_be_disabled()
    rows = page.locator("[data-bulk-row]")
    rows.nth(0).check()
    expect(count).to_have_text("1")
    expect(merge).to_be_disabled()
    rows.nth(1).check()
    expect(merge).to_be_enabled()
    page.locator("[data-bulk-all]").check()
    expect(count).to_have_text("12")
    expect(merge).to_be_disabled()  # more than ten cannot be merged at once
    rows.nth(0).uncheck()
    rows.nth(1).uncheck()
    expect(count).to_have_text("10")
    expect(merge).to_be_enabled()
