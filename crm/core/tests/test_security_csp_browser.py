"""The Content-Security-Policy in a real browser: the main pages load and run their scripts (htmx,
SortableJS on the deal board, ECharts on the forecast, Swagger UI on the API docs) without a single
policy violation."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def test_main_pages_load_without_policy_violations(live_server, browser):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.accounts.tests.factories import PASSWORD, UserFactory
    from crm.customers import services as customer_services
    from crm.sales.tests.factories import make_deal, make_pipeline

    roles_sync_builtin()
    admin = UserFactory(username="boss", role=Role.objects.get(builtin="administrator"))
    contact = customer_services.contact_create(actor=admin, data={"full_name": "Ada Lovelace"})
    pipeline = make_pipeline()
    make_deal(pipeline=pipeline, owner=admin, name="Big deal")

    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    failures: dict[str, list[str]] = {}

    def visit(path: str, ready: str | None = None) -> None:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if ready:
            page.wait_for_function(ready)
        found = page.evaluate("window.__cspViolations") + console
        if found:
            failures[path] = list(found)
        console.clear()

    visit("/accounts/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    visit("/", "() => !!window.htmx")
    visit("/contacts/", "() => !!window.htmx")
    visit(f"/contacts/{contact.pk}/", "() => !!window.htmx")
    visit(f"/sales/board/{pipeline.pk}/", "() => !!window.Sortable && !!window.htmx")
    visit("/sales/forecast/", "() => !!window.echarts")
    visit("/api/docs/", "() => !!document.querySelector('.swagger-ui .info, .swagger-ui .information-container')")
    assert failures == {}
    # The policy holds: a script slipped into the page is refused, and the refusal is seen.
    page.goto(f"{live_server.url}/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran") is None
