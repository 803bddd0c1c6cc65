"""The 360 page's timeline tabs in a real browser: only the first form comes with the page, a tab's form
loads when the tab is first shown, and logging through it lands on the timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tab_loads_its_form_when_shown_and_logs_a_call(live_server, page):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Activity, Contact

    roles_sync_builtin()
    mia = UserFactory(username="mia", role=Role.objects.get(builtin="sales_manager"))
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=mia)
    browser_sign_in(page, live_server, "mia")
    page.goto(f"{live_server.url}/contacts/{ada.pk}/")

    expect(page.get_by_test_id("log-form-note")).to_be_visible()
    assert page.get_by_test_id("log-form-call").count() == 0
    page.locator(f'a[href="#log-pane-contact-{ada.pk}-call"]').click()
    form = page.get_by_test_id("log-form-call")
    expect(form).to_be_visible()
    form.locator("input[name=subject], textarea[name=subject]").first.fill("Intro call")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("timeline-panel")).to_contain_text("Intro call")
    assert Activity.objects.filter(contact=ada, kind="call", subject="Intro call").exists()
