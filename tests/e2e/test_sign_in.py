"""A person signs in, switches the interface to Simplified Chinese, and signs out."""

from __future__ import annotations

import pytest

from crm.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_switch_to_chinese_and_sign_out(live_server, page):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin

    roles_sync_builtin()
    UserFactory(username="lin", first_name="Lin", email="lin@example.com", role=Role.objects.get(builtin="sales_rep"))

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "lin@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").inner_text().strip() == "Invalid username or password."

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h2.page-title").inner_text() == "Welcome, Lin"

    page.click("[aria-label='Open user menu']")
    page.click("button[data-language='zh-hans']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h2.page-title").inner_text() == "欢迎，Lin"
    assert "仪表盘" in page.locator("aside").inner_text()

    page.click("[aria-label='打开用户菜单']")
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert "登录" in page.locator("h2").inner_text()
    assert page.locator(".alert-success").inner_text().strip() == "您已退出登录。"
