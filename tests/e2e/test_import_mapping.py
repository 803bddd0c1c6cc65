"""The import's mapping page in a real browser: the start button is disabled while no column holds
the name, and enabled again once one does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_waits_for_a_name_column(live_server, page, tmp_path, settings):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.io.testing import csv_bytes

    settings.MEDIA_ROOT = tmp_path / "media"
    roles_sync_builtin()
    UserFactory(username="ada", role=Role.objects.get(builtin="administrator"))
    data = tmp_path / "people.csv"
    data.write_bytes(csv_bytes([["Name", "Email"], ["Grace Hopper", "grace@example.com"]]))
    browser_sign_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/import/")
    page.set_input_files("input[type=file]", str(data))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: url.rstrip("/") != f"{live_server.url}/contacts/import")
    start = page.get_by_test_id("start-import")
    expect(start).to_be_enabled()
    page.select_option("select[name=col_0]", "")
    expect(start).to_be_disabled()
    expect(page.locator("#start-import-why")).to_contain_text("full name")
    page.select_option("select[name=col_0]", "full_name")
    expect(start).to_be_enabled()
