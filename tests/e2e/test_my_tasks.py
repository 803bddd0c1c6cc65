"""My tasks in a real browser: marking a task done strikes it through and lowers its group's count;
reopening it raises the count again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_completing_an_overdue_task_lowers_the_overdue_count(live_server, page):
    from django.utils import timezone

    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.customers.models import Task

    roles_sync_builtin()
    rep = UserFactory(username="rep", role=Role.objects.get(builtin="sales_rep"))
    for title in ("Call Ada", "Send the offer"):
        Task.objects.create(title=title, assignee=rep, owner=rep, due_at=timezone.now() - timedelta(days=2))
    browser_sign_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/tasks/")
    group = page.get_by_test_id("task-group-overdue")
    count = group.locator("[data-task-count]")
    expect(count).to_have_text("2")
    row = group.locator("[data-testid=task-row]", has_text="Call Ada")
    row.get_by_role("button", name="Mark as done").click()
    expect(group.locator("[data-testid=task-row]", has_text="Call Ada")).to_have_attribute("data-status", "done")
    expect(count).to_have_text("1")
    group.locator("[data-testid=task-row]", has_text="Call Ada").get_by_role("button", name="Reopen").click()
    expect(count).to_have_text("2")
    assert Task.objects.filter(status="open").count() == 2
