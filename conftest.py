"""Fixtures shared by the whole suite."""

from __future__ import annotations

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
