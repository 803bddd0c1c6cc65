"""Every page and fragment a person can reach by following links answers without a server error, in
English and in Chinese: a crawler signs in as the demo administrator, starts from every page that
takes no arguments, follows the links (``href`` and htmx ``hx-get``) it finds, and asks each kind of
page (each URL name) once per language. Pickers are asked with something typed in them."""

from __future__ import annotations

import re
from collections import deque
from html import unescape
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch, Resolver404

pytestmark = pytest.mark.django_db

LINK = re.compile(r"""(href|hx-get)="([^"#]+)""")
# Not pages: signing out, the Django admin (its own tests), files, the API (its own contract tests).
SKIP_PREFIXES = ("/accounts/logout", "/admin/", "/static/", "/media/", "/api/")
PER_NAME = 2  # pages of one URL name to ask (e.g. two different contacts)


def _names(patterns: list, namespace: str = "") -> list[str]:
    """The names of the URL patterns that take no argument."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and not pattern.pattern.converters:
            found.append(f"{namespace}{pattern.name}")
    return found


def _start_pages() -> list[str]:
    urls = []
    for name in _names(get_resolver().url_patterns):
        try:
            urls.append(reverse(name))
        except NoReverseMatch:  # a pattern whose regex still needs a value
            continue
    return [url for url in urls if not url.startswith(SKIP_PREFIXES)]


def _url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _crawl(client, language: str) -> dict[str, int]:
    """URL -> status of every page asked; each URL name at most ``PER_NAME`` times."""
    seen_names: dict[str, int] = {}
    statuses: dict[str, int] = {}
    queue = deque((url, False) for url in _start_pages())  # (url, asked by htmx)
    while queue:
        url, fragment = queue.popleft()
        path = urlsplit(url).path
        if url in statuses or path.startswith(SKIP_PREFIXES):
            continue
        name = _url_name(path)
        if name is None or seen_names.get(name, 0) >= PER_NAME:
            continue
        seen_names[name] = seen_names.get(name, 0) + 1
        asked = f"{url}{'&' if '?' in url else '?'}q=a" if "autocomplete" in name else url
        headers = {"HTTP_HX_REQUEST": "true"} if fragment else {}
        response = client.get(asked, HTTP_ACCEPT_LANGUAGE=language, **headers)
        statuses[asked] = response.status_code
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for attribute, link in LINK.findall(response.content.decode()):
                target = unescape(link)
                if target.startswith("/") and not target.startswith("//"):
                    queue.append((target, attribute == "hx-get"))
    return statuses


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_reached_by_links_fails(client, roles, language):
    from crm.accounts.models import User

    call_command("demo_data", stdout=StringIO())
    admin = User.objects.get(username="admin")
    admin.language = language
    admin.save(update_fields=["language"])
    client.force_login(admin)

    statuses = _crawl(client, language)

    failed = {url: status for url, status in statuses.items() if status >= 500}
    assert failed == {}
    names = {_url_name(urlsplit(url).path) for url in statuses}
    # The crawl reached the record pages, not only the start pages.
    assert {"customers:contact_detail", "customers:company_detail", "customers:contact_autocomplete"} <= names
    assert len(statuses) > 100


def test_pages_name_an_icon_that_exists(admin_client):
    from django.contrib.staticfiles import finders

    page = admin_client.get(reverse("core:dashboard")).content.decode()
    icon = re.search(r'<link rel="icon" href="/static/([^"]+)"', page)
    assert icon is not None and finders.find(icon.group(1)) is not None
