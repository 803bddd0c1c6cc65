"""Inline edit in a real browser: the pencil in a list cell opens a one-field form, Enter saves without
submitting the list's bulk form, Escape puts the value back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_a_stage_and_a_city_in_the_list(live_server, page):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Contact

    roles_sync_builtin()
    mia = UserFactory(username="mia", role=Role.objects.get(builtin="sales_manager"))
    contact = Contact.objects.create(
        first_name="Ada", last_name="Lovelace", city="London", lifecycle_stage="lead", owner=mia
    )
    browser_sign_in(page, live_server, "mia")
    # Show the city column (the column chooser keeps the choice in the session).
    from importlib import import_module

    from django.conf import settings

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

    session_id = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=session_id)
    session["customers.columns.contact"] = ["lifecycle_stage", "city"]
    session.save()
    page.goto(f"{live_server.url}/contacts/?sort=name")

    stage_cell = page.locator("td.crm-col-lifecycle_stage")
    stage_cell.hover()
    stage_cell.locator(".crm-inline-edit").click()
    stage_cell.locator("select[name=lifecycle_stage]").select_option("customer")
    stage_cell.locator("[data-inline-save]").click()
    expect(stage_cell.locator(".crm-stage-customer")).to_be_visible()

    city_cell = page.locator("td.crm-col-city")
    city_cell.hover()
    city_cell.locator(".crm-inline-edit").click()
    field = city_cell.locator("input[name=city]")
    expect(field).to_be_focused()
    field.fill("Paris")
    field.press("Escape")
    expect(city_cell).to_contain_text("London")
    city_cell.locator(".crm-inline-edit").click()
    # The field takes the focus once the script has wired Enter and Escape to it.
    expect(city_cell.locator("input[name=city]")).to_be_focused()
    city_cell.locator("input[name=city]").fill("Paris")
    city_cell.locator("input[name=city]").press("Enter")
    expect(city_cell).to_contain_text("Paris")
    assert page.url.endswith("/contacts/?sort=name")  # Enter did not submit the bulk form
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "customer"
    assert contact.city == "Paris" and contact.version == 3
