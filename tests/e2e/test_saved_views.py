"""Saved views in a real browser: save the current filters and columns from the list's Views menu,
share them with a team, and a teammate applies them; someone outside the team never sees them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import TeamFactory, UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_names(page):
    return sorted(name.strip() for name in page.locator(".crm-col-name a").all_inner_texts())


def header_texts(page):
    return [text.strip().lower() for text in page.locator(".crm-list-table thead th").all_inner_texts() if text.strip()]


@pytest.fixture
def people(db):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Contact

    roles_sync_builtin()
    rep = Role.objects.get(builtin="sales_rep")
    rep.data_scope = "team"  # teammates see the team's contacts
    rep.save()
    lin = UserFactory(username="lin", first_name="Lin", last_name="Li", role=rep)
    kim = UserFactory(username="kim", first_name="Kim", last_name="Ko", role=rep)
    sam = UserFactory(username="sam", first_name="Sam", last_name="Su", role=rep)
    team = TeamFactory(name="Sales Asia", members=[lin, kim])
    TeamFactory(name="Sales Europe", members=[sam])
    for name, stage in (("Ada", "customer"), ("Bo", "lead"), ("Cy", "customer")):
        Contact.objects.create(
            first_name=name, last_name="Li", owner=lin, team=team, lifecycle_stage=stage, city="Xi'an"
        )
    return {"lin": lin, "kim": kim, "sam": sam, "team": team}


def test_save_share_and_apply_a_view(live_server, page, people):
    browser_sign_in(page, live_server, "lin")
    page.goto(f"{live_server.url}/contacts/")
    assert row_names(page) == ["Ada Li", "Bo Li", "Cy Li"]

    # Filter and choose the columns, as a person would.
    page.select_option("select[name=lifecycle_stage]", "customer")
    page.wait_for_function("() => document.querySelectorAll('.crm-col-name a').length === 2")
    page.click(".crm-columns button[data-bs-toggle=dropdown]")
    for box in page.locator(".crm-columns-menu input[name=columns]").all():
        box.set_checked(box.get_attribute("value") in {"email", "city"})
    page.click(".crm-columns-menu button[type=submit]:not([name])")
    page.wait_for_load_state()
    assert "lifecycle_stage=customer" in page.url
    assert header_texts(page)[-2:] == ["email", "city"]

    # Save it from the Views menu, shared with the team.
    page.click("[data-testid=saved-views-toggle]")
    page.click("[data-testid=saved-view-create]")
    form = page.locator("#saved-view-dialog [data-testid=saved-view-form]")
    expect(form).to_be_visible()
    expect(page.locator("#saved-view-name")).to_be_focused()
    page.fill("#saved-view-name", "")
    form.locator("button[type=submit]").click()
    expect(form.locator(".invalid-feedback")).to_have_text("This field is required.")  # nothing saved
    page.fill("#saved-view-name", "Asia customers")
    page.select_option("#saved-view-team", label="Sales Asia")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    assert page.locator("[data-saved-view-label]").inner_text() == "Asia customers"

    # Changing a filter: the menu no longer names the view.
    page.select_option("select[name=lifecycle_stage]", "")
    page.wait_for_function("() => document.querySelectorAll('.crm-col-name a').length === 3")
    assert page.locator("[data-saved-view-label]").inner_text() == "Views"

    # A teammate, with other columns, applies it.
    page.context.clear_cookies()
    browser_sign_in(page, live_server, "kim")
    page.goto(f"{live_server.url}/contacts/")
    assert len(row_names(page)) == 3 and "city" not in header_texts(page)
    page.click("[data-testid=saved-views-toggle]")
    shared = page.locator("[data-saved-view]", has_text="Asia customers")
    assert "Lin Li" in shared.inner_text()
    shared.click()
    page.wait_for_load_state()
    assert "lifecycle_stage=customer" in page.url
    assert row_names(page) == ["Ada Li", "Cy Li"]
    assert header_texts(page)[-2:] == ["email", "city"]
    assert page.locator("[data-saved-view].active").get_attribute("data-name") == "Asia customers"

    # Outside the team, the view does not exist.
    page.context.clear_cookies()
    browser_sign_in(page, live_server, "sam")
    page.goto(f"{live_server.url}/contacts/")
    page.click("[data-testid=saved-views-toggle]")
    assert page.locator("[data-saved-view]").count() == 0
    from crm.core.models import SavedView

    response = page.goto(f"{live_server.url}/saved-views/{SavedView.objects.get().pk}/apply/")
    assert response.status == 404
