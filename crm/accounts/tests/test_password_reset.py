"""Choosing a password: the rules, how it is stored, and resetting it by email over a real SMTP server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client, override_settings

from crm.accounts.tests.conftest import error_text, sign_in, signed_in_user_id
from crm.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ARGON2_FIRST = [
    "crm.accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",  # what the test factories store
]
RESET_URL = "/accounts/password/reset/"
SENT_URL = "/accounts/password/reset/sent/"
LINK_DEAD = "This link no longer works"


@pytest.fixture
def alice(roles):
    return UserFactory(username="alice", email="alice@example.com", role=roles["sales_rep"])


def change_password(client, new_password: str, old_password: str = PASSWORD):
    return client.post(
        "/accounts/password/",
        {"old_password": old_password, "new_password1": new_password, "new_password2": new_password},
    )


# --- password rules and storage ---------------------------------------------------------------------------


def test_the_configured_hasher_is_argon2():
    from config import settings as configured

    assert configured.PASSWORD_HASHERS[0] == "crm.accounts.hashers.Argon2idPasswordHasher"


@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
def test_a_new_password_is_stored_with_argon2id(client, alice):
    client.force_login(alice)
    new_password = "stored the modern way 2024"

    assert change_password(client, new_password).status_code == 302

    alice.refresh_from_db()
    assert alice.password.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
    assert new_password not in alice.password
    assert sign_in(Client(), "alice", new_password).status_code == 302


@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
def test_an_old_hash_is_upgraded_to_argon2id_at_sign_in(client, alice):
    # Given a password stored with an older hasher (MD5 in the factory)
    assert alice.password.startswith("md5$")

    # When the person signs in
    assert sign_in(client, "alice", PASSWORD).status_code == 302

    # Then the hash is replaced by an Argon2id one
    alice.refresh_from_db()
    assert alice.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("length", "accepted", "message"),
    [
        (11, False, "This password is too short. It must contain at least 12 characters."),
        (12, True, ""),
        (128, True, ""),
        (129, False, "This password is too long. It must contain at most 128 characters."),
    ],
)
def test_password_length_rules(client, alice, length, accepted, message):
    client.force_login(alice)
    new_password = ("Zq7!mK2#pL9x" * 11)[:length]
    assert len(new_password) == length

    response = change_password(client, new_password)

    alice.refresh_from_db()
    if accepted:
        assert response.status_code == 302
        assert alice.check_password(new_password)
    else:
        assert response.status_code == 400
        assert message in error_text(response)
        assert alice.check_password(PASSWORD)


@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
def test_a_long_password_is_never_truncated(client, alice):
    # Given a 128-character password
    client.force_login(alice)
    long_password = "x" * 127 + "A"
    assert change_password(client, long_password).status_code == 302
    alice.refresh_from_db()

    # Then a password that differs only in its last character does not match
    assert alice.check_password(long_password)
    assert not alice.check_password("x" * 127 + "B")
    assert sign_in(Client(), "alice", "x" * 127 + "B").status_code == 400
    assert sign_in(Client(), "alice", long_password).status_code == 302


@pytest.mark.parametrize(
    "new_password",
    [
        "中文密码十二个字符足够了",  # twelve Chinese characters
        "очень надёжный пароль",
        "كلمة مرور طويلة وآمنة",
        "パスワードは長くて安全です",
        "🔐 mixed 密码 и ключ ✓",
    ],
)
def test_passwords_in_any_script_are_accepted_and_verified(client, alice, new_password):
    client.force_login(alice)

    assert change_password(client, new_password).status_code == 302

    fresh = Client()
    assert sign_in(fresh, "alice", new_password).status_code == 302
    assert signed_in_user_id(fresh) == str(alice.pk)
    assert sign_in(Client(), "alice", new_password[:-1]).status_code == 400


def test_a_common_password_is_refused(client, alice):
    client.force_login(alice)

    response = change_password(client, "password1234")

    assert response.status_code == 400
    assert "This password is too common." in error_text(response)


# --- reset by email --------------------------------------------------------------------------------------


def ask_for_reset(client, email: str):
    return client.post(RESET_URL, {"email": email})


def test_reset_by_email_end_to_end(client, alice, smtp_server):
    # Given Alice forgot her password: she asks for a link (typing her address in another case)
    response = ask_for_reset(client, "Alice@Example.com")
    assert response.status_code == 302
    assert response["Location"] == SENT_URL
    assert "Check your email" in client.get(SENT_URL).content.decode()

    # Then exactly one message reached the SMTP server, for her, with a link
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["X-Envelope-To"] == "alice@example.com"
    assert message["Subject"] == "Choose a new password for the CRM"
    link = smtp_server.link()
    assert link.startswith("/accounts/password/reset/")

    # When she follows the link and chooses a new password
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    new_password = "remembered this time 77"
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"

    # Then the new password signs her in and the old one does not
    assert sign_in(Client(), "alice", PASSWORD).status_code == 400
    fresh = Client()
    assert sign_in(fresh, "alice@example.com", new_password).status_code == 302
    assert signed_in_user_id(fresh) == str(alice.pk)


def _reset_link(client, smtp_server, email: str = "alice@example.com") -> str:
    ask_for_reset(client, email)
    return smtp_server.link()


def _use_link(link: str, new_password: str):
    client = Client()
    page = client.get(link, follow=True)
    if LINK_DEAD in page.content.decode():
        return page
    return client.post(page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})


def test_a_reset_link_works_once(client, alice, smtp_server):
    link = _reset_link(client, smtp_server)
    assert _use_link(link, "first new password 11").status_code == 302

    # The second use shows the "no longer works" page and changes nothing
    second = Client().get(link, follow=True)
    assert second.status_code == 200
    assert LINK_DEAD in second.content.decode()
    assert "new_password1" not in second.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("first new password 11")


def test_an_expired_reset_link_is_refused(client, alice, smtp_server, monkeypatch):
    link = _reset_link(client, smtp_server)
    timeout = settings.PASSWORD_RESET_TIMEOUT

    # A minute before it expires the link still works...
    monkeypatch.setattr(default_token_generator, "_now", lambda: datetime.now() + timedelta(seconds=timeout - 60))
    assert "Choose a new password" in Client().get(link, follow=True).content.decode()

    # ...once PASSWORD_RESET_TIMEOUT has passed, it is refused
    monkeypatch.setattr(default_token_generator, "_now", lambda: datetime.now() + timedelta(seconds=timeout + 1))
    response = _use_link(link, "too late for this one 1")
    assert response.status_code == 200
    assert LINK_DEAD in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_tampered_reset_link_is_refused(client, alice, smtp_server):
    link = _reset_link(client, smtp_server)
    tampered = link.rstrip("/")[:-1] + ("a" if not link.rstrip("/").endswith("a") else "b") + "/"

    response = Client().get(tampered, follow=True)

    assert LINK_DEAD in response.content.decode()


def test_an_unknown_email_looks_the_same_and_sends_nothing(client, alice, smtp_server):
    known = ask_for_reset(Client(), "alice@example.com")
    unknown = ask_for_reset(client, "nobody@example.com")

    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"] == SENT_URL
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["X-Envelope-To"] == "alice@example.com"


def test_a_deactivated_account_gets_no_reset_email(client, alice, smtp_server):
    alice.is_active = False
    alice.save()

    response = ask_for_reset(client, "alice@example.com")

    assert response["Location"] == SENT_URL
    assert smtp_server.messages == []


def test_the_reset_form_is_refused_by_the_per_address_throttle(client, alice, smtp_server, settings):
    settings.LOGIN_RATE_PER_ADDRESS = "2/h"
    assert ask_for_reset(client, "a@example.com").status_code == 302
    assert ask_for_reset(client, "b@example.com").status_code == 302

    response = ask_for_reset(client, "alice@example.com")

    assert response.status_code == 429
    assert smtp_server.messages == []


# --- invitation -------------------------------------------------------------------------------------------


def test_an_invited_user_chooses_a_password_from_the_email_and_signs_in(
    admin_client, roles, smtp_server, django_capture_on_commit_callbacks
):
    # Given an administrator invites a new colleague
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/settings/users/invite/",
            {
                "email": "New.Person@Example.com",
                "first_name": "New",
                "last_name": "Person",
                "role": roles["sales_rep"].pk,
            },
        )
    assert response.status_code == 302

    # Then the invitation went out over SMTP, with a link
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["X-Envelope-To"] == "new.person@example.com"
    assert message["Subject"] == "You are invited to the CRM"
    assert "Your username is new.person@example.com" in smtp_server.body()
    link = smtp_server.link()

    # And until a password is chosen nobody can sign in to the account
    assert sign_in(Client(), "new.person@example.com", "a guess at no password").status_code == 400

    # When the colleague follows the link and chooses a password
    new_password = "my first crm password 1"
    assert _use_link(link, new_password).status_code == 302

    # Then they can sign in with it, and the link is spent
    fresh = Client()
    assert sign_in(fresh, "New.Person@example.com", new_password).status_code == 302
    assert fresh.get("/").status_code == 200
    assert LINK_DEAD in Client().get(link, follow=True).content.decode()
