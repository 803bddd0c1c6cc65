"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Rate limits and lock-outs live in the cache: every test starts with a clean one."""
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A page request in Chinese leaves Chinese active in the thread; every test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def roles(db):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin

    roles_sync_builtin()
    return {role.builtin: role for role in Role.objects.exclude(builtin="")}


@pytest.fixture
def key_file(tmp_path, settings, monkeypatch):
    """The suite's field-encryption keys moved into a key file of the test's own (rotation tests)."""
    import json

    from crm.core.crypto import keyfile, keyring

    path = tmp_path / "keys.json"
    keyfile.write(path, json.loads(settings.CRM_FIELD_KEYS))
    monkeypatch.delenv("CRM_FIELD_KEYS", raising=False)
    settings.CRM_FIELD_KEYS = ""
    settings.CRM_KEY_FILE = str(path)
    keyring.reset()
    yield path
    keyring.reset()


@pytest.fixture
def admin_user(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(username="boss", role=roles["administrator"])


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations() -> None:
    """Pages are checked in Simplified Chinese too: make sure the catalogue is compiled."""
    from django.core.management import call_command

    call_command("compile_translations", verbosity=0)


# --- a real browser: Playwright driving the machine's own Chromium (never a downloaded browser) -----

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tools.testenv import chromium_path

    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is not installed; run the suite with `make test`, which leaves browser tests out.")
    # Playwright's synchronous API runs an event loop in this thread; the test's own ORM calls are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
