"""Security headers on every kind of page (signed in, public, API, the API docs), the policy's
content, no inline script in the templates, and the rate limits of sign-in, password reset, API and
public web forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR) / "crm"
STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
}


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


def _assert_common(response) -> None:
    assert response.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url_name", ["core:dashboard", "customers:contact_list", "core:audit_log"])
def test_signed_in_pages_carry_the_strict_policy(admin_client, url_name):
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 200
    policy = _policy(response)
    for directive, value in STRICT.items():
        assert policy[directive] == value, directive
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    _assert_common(response)


def test_the_sign_in_page_api_and_errors_carry_the_headers(client):
    for response in (client.get(reverse("accounts:login")), client.get("/api/v1/contacts/"), client.get("/nope/")):
        assert _policy(response)["script-src"] == "'self'"
        _assert_common(response)


def test_the_api_docs_alone_may_run_their_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def test_the_hosted_web_form_carries_the_strict_policy(client, roles):
    from crm.sales.tests.test_webforms_public import make_form

    form = make_form()
    response = client.get(reverse("sales:web_form_page", args=[form.token]))
    assert response.status_code == 200
    assert b"<script" not in response.content
    assert _policy(response)["script-src"] == "'self'" and _policy(response)["form-action"] == "'self'"


SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
# The embed snippet is text shown to the administrator and pasted on other sites.
SHOWN_AS_TEXT = {"sales/templates/sales/webforms/embed.html"}


def test_no_template_holds_an_inline_script_or_event_handler():
    found = []
    for path in ROOT.rglob("*.html"):
        name = str(path.relative_to(ROOT))
        if name in SHOWN_AS_TEXT:
            continue
        text = path.read_text(encoding="utf-8")
        if SCRIPT.search(text) or HANDLER.search(text) or "javascript:" in text.lower():
            found.append(name)
    assert found == []


def test_production_sends_hsts_and_secure_cookies():
    """Read from the settings module as production loads it (the deploy check runs it too)."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "CRM_ENV": "production",
        "SECRET_KEY": "x" * 64,
        "ALLOWED_HOSTS": "crm.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert out.stdout.split() == ["31536000", "True", "True", "True"], out.stderr


# --- rate limits ---------------------------------------------------------------------------------------


@pytest.fixture
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def test_sign_in_is_limited_per_address(client, settings, _fresh_limits):
    settings.LOGIN_RATE_PER_ADDRESS = "3/m"
    codes = [
        client.post(reverse("accounts:login"), {"username": f"u{i}", "password": "wrong"}).status_code for i in range(5)
    ]
    assert codes[-1] == 429 and 429 not in codes[:3]


def test_password_reset_is_limited_per_address(client, settings, _fresh_limits):
    settings.LOGIN_RATE_PER_ADDRESS = "3/m"
    codes = [
        client.post(reverse("accounts:password_reset"), {"email": f"x{i}@example.com"}).status_code for i in range(5)
    ]
    assert codes[-1] == 429 and 429 not in codes[:3]


def test_api_is_throttled_per_token(admin_client, settings, _fresh_limits):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
    try:
        codes = [admin_client.get("/api/v1/contacts/").status_code for _ in range(5)]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes[-1] == 429 and codes[0] == 200


def test_refused_api_tokens_are_limited_per_address(client, settings, admin_user, _fresh_limits):
    settings.API_AUTH_FAILURE_RATE = "3/m"
    codes = [client.get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Bearer wrong-{i}").status_code for i in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[-1] == 429
    assert client.get("/api/v1/contacts/", HTTP_AUTHORIZATION="Bearer again").json()["code"] == "throttled"
    # A good token from another address is not affected.
    from crm.accounts.tests.factories import make_token

    _token, secret = make_token(admin_user)
    other = client.get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_public_web_form_submissions_are_limited(client, roles, _fresh_limits):
    """More in crm/sales/tests/test_webforms_public.py (a burst of 1,000 posts)."""
    from crm.sales.tests.test_webforms_public import make_form, post

    form = make_form()
    with override_settings(WEB_FORM_RATE="2/h"):
        codes = [post(client, form, email=f"v{i}@example.com").status_code for i in range(3)]
    assert codes[-1] == 429
