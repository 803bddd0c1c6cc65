"""Signing in and out, changing a password, lock-out after failures and the per-address throttle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client, override_settings

from crm.accounts.tests.conftest import LOGIN_URL, error_text, sign_in, signed_in_user_id
from crm.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

INVALID = "Invalid username or password."
LOCKED = "Too many failed attempts"
THROTTLED = "Too many requests from your address"


@pytest.fixture
def alice(roles):
    return UserFactory(username="alice", email="alice@example.com", role=roles["sales_rep"])


def fail(client, login: str, times: int, **extra) -> list[int]:
    return [sign_in(client, login, "not the password at all", **extra).status_code for _ in range(times)]


# --- signing in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM", "  alice  "])
def test_sign_in_with_username_or_email_in_any_case(client, alice, login):
    # Given an account "alice" with the email alice@example.com
    # When she signs in with her username or email, in any letter case
    response = sign_in(client, login, PASSWORD)

    # Then she lands on the dashboard, signed in as herself
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(alice.pk)
    assert client.get("/").status_code == 200


def test_a_name_that_is_one_username_and_another_email_means_the_username(client, roles):
    # Given an older account whose email is a newer account's username (invited users have their
    # email as username, and an email can later be changed)
    UserFactory(username="zed", email="carol@example.com")
    carol = UserFactory(username="carol@example.com", email="carol@work.example")

    # When Carol signs in with her username, or with her email
    # Then it is always Carol's account that is signed in
    for login in ["carol@example.com", "CAROL@example.com", "carol@work.example"]:
        fresh = Client()
        assert sign_in(fresh, login, PASSWORD).status_code == 302
        assert signed_in_user_id(fresh) == str(carol.pk), login


def test_sign_in_follows_a_local_next_but_not_another_site(client, alice):
    response = client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD, "next": "/settings/users/"})
    assert response["Location"] == "/settings/users/"

    other = Client()
    response = other.post(LOGIN_URL, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def _page_without_echoes(response) -> str:
    """The page with what differs between two requests by design blanked out (typed values, CSRF token)."""
    html = re.sub(r'value="[^"]*"', 'value=""', response.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', html)


def test_wrong_password_and_unknown_user_look_exactly_the_same(client, alice):
    # Given an existing account and a name nobody uses
    # When one sign-in uses a wrong password and the other an unknown name
    wrong_password = sign_in(client, "alice", "wrong password 123")
    unknown_user = sign_in(client, "nobody-here", "wrong password 123")

    # Then both get the same status and the same message, and the pages are otherwise identical
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert error_text(wrong_password) == error_text(unknown_user) == INVALID
    assert _page_without_echoes(wrong_password) == _page_without_echoes(unknown_user)
    assert signed_in_user_id(client) is None


def test_deactivated_account_with_the_right_password_gets_the_same_message(client, alice):
    alice.is_active = False
    alice.save()

    response = sign_in(client, "alice", PASSWORD)

    assert response.status_code == 400
    assert error_text(response) == INVALID
    assert signed_in_user_id(client) is None


def test_an_unknown_user_costs_a_password_hash_like_a_known_one(client, alice, monkeypatch):
    # Timing must not tell whether an account exists: the unknown user path hashes the password too.
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls: list[str] = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    sign_in(client, "nobody-here", "guess number one")
    assert calls == ["guess number one"]


# --- signing out --------------------------------------------------------------------------------------


def test_logout_is_post_only_and_ends_the_session(client, alice):
    sign_in(client, "alice", PASSWORD)

    # A GET (a link or an image on another site) does not sign anyone out
    assert client.get("/accounts/logout/").status_code == 405
    assert signed_in_user_id(client) == str(alice.pk)

    # A POST does
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert signed_in_user_id(client) is None
    page = client.get("/")
    assert page.status_code == 302
    assert page["Location"].startswith(LOGIN_URL)


# --- changing the password -------------------------------------------------------------------------------


def test_change_password_keeps_this_session_and_ends_the_others(client, alice):
    new_password = "a brand new passphrase 42"
    sign_in(client, "alice", PASSWORD)
    elsewhere = Client()
    sign_in(elsewhere, "alice", PASSWORD)

    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    # Then this browser stays signed in...
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert client.get("/accounts/profile/").status_code == 200
    # ...a session opened elsewhere with the old password is over...
    assert elsewhere.get("/accounts/profile/").status_code == 302
    # ...and only the new password signs in.
    assert sign_in(Client(), "alice", PASSWORD).status_code == 400
    assert sign_in(Client(), "alice", new_password).status_code == 302


def test_change_password_needs_the_current_password(client, alice):
    client.force_login(alice)
    new_password = "a brand new passphrase 42"

    response = client.post(
        "/accounts/password/",
        {"old_password": "not my password", "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 400
    assert "old password was entered incorrectly" in error_text(response)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_change_password_requires_sign_in(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


# --- lock-out after repeated failures ---------------------------------------------------------------------


def test_account_locks_after_the_failure_limit_even_for_the_right_password(client, alice):
    limit = settings.AXES_FAILURE_LIMIT

    # Given one failure fewer than the limit: still the ordinary message
    assert fail(client, "alice", limit - 1) == [400] * (limit - 1)

    # When the limit is reached
    response = sign_in(client, "alice", "the last wrong guess")

    # Then the account is paused, with a clear message and 429
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "15 minutes" in response.content.decode()

    # And even the right password is refused while it cools off
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert signed_in_user_id(client) is None


def test_one_failure_short_of_the_limit_the_right_password_still_works(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)

    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(alice.pk)


def _age_attempts(seconds: float) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=seconds))


def _cool_off_seconds() -> float:
    return timedelta(hours=settings.AXES_COOLOFF_TIME).total_seconds()


def test_still_locked_a_minute_before_the_cool_off_ends(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)

    _age_attempts(_cool_off_seconds() - 60)

    assert sign_in(client, "alice", PASSWORD).status_code == 429
    assert signed_in_user_id(client) is None


def test_lock_out_ends_when_the_cool_off_has_passed(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "alice", PASSWORD).status_code == 429

    _age_attempts(_cool_off_seconds() + 1)

    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(alice.pk)


@override_settings(AXES_COOLOFF_TIME=2 / 3600)  # two seconds
def test_a_short_cool_off_is_honoured(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "alice", PASSWORD).status_code == 429

    _age_attempts(3)

    assert sign_in(client, "alice", PASSWORD).status_code == 302


@pytest.mark.parametrize("login", ["alice", "alice@example.com"])
def test_a_successful_sign_in_resets_the_failure_count(client, alice, login):
    limit = settings.AXES_FAILURE_LIMIT
    fail(client, login, limit - 1)

    assert sign_in(client, login, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    # The earlier failures are forgotten: another limit-1 failures do not lock the account
    assert fail(client, login, limit - 1) == [400] * (limit - 1)
    assert sign_in(client, login, PASSWORD).status_code == 302


def test_failures_on_one_account_do_not_lock_another(client, alice, roles):
    bob = UserFactory(username="bob", email="bob@example.com", role=roles["sales_rep"])
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "alice", PASSWORD).status_code == 429

    response = sign_in(client, "bob", PASSWORD)

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(bob.pk)


def test_every_spelling_of_an_account_counts_towards_the_same_lock_out(client, alice):
    # Username and email in any letter case name one account: varying them buys no extra guesses.
    spellings = ["alice", "ALICE", "Alice", "alice@example.com", "ALICE@EXAMPLE.COM"]
    assert len(spellings) >= settings.AXES_FAILURE_LIMIT
    for spelling in spellings[: settings.AXES_FAILURE_LIMIT]:
        sign_in(client, spelling, "another wrong guess")

    for spelling in spellings:
        response = sign_in(client, spelling, PASSWORD)
        assert response.status_code == 429, spelling
    assert signed_in_user_id(client) is None


def test_an_unknown_name_locks_out_like_a_real_account(client, alice):
    # The lock-out does not reveal whether an account exists either.
    real = fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    unknown = fail(client, "nobody-here", settings.AXES_FAILURE_LIMIT)

    assert real == unknown
    assert real[-1] == 429
    assert sign_in(client, "nobody-here", PASSWORD).status_code == 429


# --- per-address throttle -----------------------------------------------------------------------------


@override_settings(LOGIN_RATE_PER_ADDRESS="5/h")
def test_a_flood_from_one_address_is_throttled_without_locking_anyone_out(client, alice):
    flood = {"REMOTE_ADDR": "203.0.113.7"}

    # Given as many attempts from one address as the rate allows, each on a different name
    statuses = [sign_in(client, f"guess{i}", "password guess 1", **flood).status_code for i in range(5)]
    assert statuses == [400] * 5

    # When it sends one more, then even the right password
    over = sign_in(client, "guess-more", "password guess 1", **flood)
    right = sign_in(client, "alice", PASSWORD, **flood)

    # Then that address is told to wait (429)
    assert over.status_code == right.status_code == 429
    assert THROTTLED in over.content.decode()
    assert signed_in_user_id(client) is None

    # And from another address the account works as usual: nobody was locked out
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    response = sign_in(elsewhere, "alice", PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(elsewhere) == str(alice.pk)
    assert not AccessAttempt.objects.filter(username="alice").exists()


@override_settings(LOGIN_RATE_PER_ADDRESS="3/h")
def test_the_throttle_counts_posts_only(client, alice):
    flood = {"REMOTE_ADDR": "203.0.113.8"}
    for _ in range(6):
        assert client.get(LOGIN_URL, **flood).status_code == 200

    assert sign_in(client, "alice", PASSWORD, **flood).status_code == 302


# --- the signed-in person's own preferences ------------------------------------------------------------


def test_preferences_are_saved_for_the_signed_in_person(client, alice):
    client.force_login(alice)

    response = client.post("/accounts/profile/", {"language": "zh-hans", "time_zone": "Asia/Shanghai"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("zh-hans", "Asia/Shanghai")


def test_the_language_switch_remembers_the_choice_of_a_signed_in_person(client, alice):
    client.force_login(alice)

    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/profile/"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
