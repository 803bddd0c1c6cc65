"""Personal API tokens: created in the UI, shown once, stored as a hash, used as a Bearer token."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from crm.accounts.models import ApiToken, Team
from crm.accounts.tests.factories import TeamFactory, UserFactory, make_token

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me/"
TOKENS_URL = "/accounts/tokens/"


@pytest.fixture
def alice(roles):
    return UserFactory(username="alice", email="alice@example.com", role=roles["sales_rep"])


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def assert_refused(response, status: int = 401) -> None:
    """Refusals use the API's one error format."""
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["detail"]
    assert body["errors"] == {}


def create_in_ui(client, **data) -> tuple[object, str]:
    response = client.post(TOKENS_URL, {"name": "Accounting sync", **data})
    assert response.status_code == 200
    secret = re.search(r'data-testid="new-token">([^<]+)<', response.content.decode()).group(1)
    return response, secret


# --- creating --------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_only_its_hash_is_stored(client, alice):
    client.force_login(alice)

    # When Alice creates a token
    response, secret = create_in_ui(client, read_only="on")

    # Then the page shows it once, with how to use it
    assert secret.startswith("crm_")
    assert len(secret) > 40
    assert "it is shown only once" in response.content.decode()

    # And only its SHA-256 hash and a short hint are stored
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.hint == secret[:10]
    assert token.read_only
    stored = [str(getattr(token, field.attname)) for field in ApiToken._meta.concrete_fields]
    assert not any(secret in value for value in stored)

    # And the list shows the hint, never the token again
    listing = client.get(TOKENS_URL).content.decode()
    assert f"<code>{token.hint}…</code>" in listing
    assert secret not in listing
    assert "Accounting sync" in listing


def test_a_token_with_an_expiry_in_the_past_is_refused(client, alice):
    client.force_login(alice)
    yesterday = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(TOKENS_URL, {"name": "Old", "expires_at": yesterday})

    assert response.status_code == 400
    assert "The expiry must be in the future." in response.content.decode()
    assert not ApiToken.objects.filter(user=alice).exists()


def test_the_list_shows_only_your_own_tokens(client, alice, admin_user):
    make_token(admin_user)
    ApiToken.objects.filter(user=admin_user).update(name="The boss's token")
    client.force_login(alice)
    create_in_ui(client)

    listing = client.get(TOKENS_URL).content.decode()

    assert "Accounting sync" in listing
    assert "The boss" not in listing


# --- using -----------------------------------------------------------------------------------------------


def test_a_token_from_the_ui_authenticates_the_api_and_records_its_use(client, alice):
    client.force_login(alice)
    _response, secret = create_in_ui(client)
    token = ApiToken.objects.get(user=alice)
    assert token.last_used_at is None

    response = bearer(secret).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["id"] == alice.pk
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(seconds=30)


def test_last_used_is_refreshed_when_it_is_older_than_a_minute(alice):
    token, secret = make_token(alice)
    long_ago = timezone.now() - timedelta(days=3)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)

    assert bearer(secret).get(ME_URL).status_code == 200

    token.refresh_from_db()
    assert token.last_used_at > long_ago + timedelta(days=2)


def test_the_bearer_keyword_is_case_insensitive(alice):
    _token, secret = make_token(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {secret}")

    assert client.get(ME_URL).status_code == 200


def test_without_credentials_the_api_answers_401(alice):
    assert_refused(APIClient().get(ME_URL))


def test_a_revoked_token_is_refused(client, alice):
    token, secret = make_token(alice)
    client.force_login(alice)

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = bearer(secret).get(ME_URL)
    assert_refused(refused)
    assert refused.json()["detail"] == "Invalid or expired token."
    assert refused["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_refused(alice):
    token, secret = make_token(alice, expires_at=timezone.now() + timedelta(days=1))
    assert bearer(secret).get(ME_URL).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_refused(bearer(secret).get(ME_URL))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer two parts",
        "Bearer crm_not-a-real-token-at-all",
        "Bearer crm_tökén",
    ],
)
def test_malformed_or_wrong_tokens_are_refused(alice, header):
    make_token(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_refused(client.get(ME_URL))


def test_a_token_with_one_character_changed_is_refused(alice):
    _token, secret = make_token(alice)
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    assert_refused(bearer(changed).get(ME_URL))


# --- what a token may do ----------------------------------------------------------------------------------


def test_a_read_only_token_can_read_but_never_write(admin_user):
    team = TeamFactory(name="North")
    _token, secret = make_token(admin_user, read_only=True)
    client = bearer(secret)

    assert client.get("/api/v1/teams/").status_code == 200
    assert_refused(client.post("/api/v1/teams/", {"name": "South"}, format="json"), 403)
    assert_refused(client.patch(f"/api/v1/teams/{team.pk}/", {"name": "Renamed", "version": 1}, format="json"), 403)
    assert_refused(client.delete(f"/api/v1/teams/{team.pk}/"), 403)

    team.refresh_from_db()
    assert team.name == "North"
    assert list(Team.objects.values_list("name", flat=True)) == ["North"]


def test_a_read_write_token_of_the_same_person_can_write(admin_user):
    team = TeamFactory(name="North")
    _token, secret = make_token(admin_user, read_only=False)
    client = bearer(secret)

    assert client.post("/api/v1/teams/", {"name": "South", "members": []}, format="json").status_code == 201
    assert (
        client.patch(f"/api/v1/teams/{team.pk}/", {"name": "Renamed", "version": 1}, format="json").status_code == 200
    )
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Renamed", "South"]


def test_a_token_does_not_give_more_than_the_role(alice):
    # A Sales rep's read-write token still cannot manage teams
    _token, secret = make_token(alice, read_only=False)

    assert_refused(bearer(secret).post("/api/v1/teams/", {"name": "South"}, format="json"), 403)
    assert not Team.objects.exists()


def test_a_deactivated_users_token_stops_working(admin_client, alice):
    token, secret = make_token(alice)
    assert bearer(secret).get(ME_URL).status_code == 200

    # When an administrator deactivates Alice
    response = admin_client.post(f"/settings/users/{alice.pk}/active/", {"active": "0"})

    # Then her token is revoked and refused
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_refused(bearer(secret).get(ME_URL))


def test_an_inactive_users_token_is_refused_even_if_not_revoked(alice):
    _token, secret = make_token(alice)
    alice.is_active = False
    alice.save()

    assert_refused(bearer(secret).get(ME_URL))


def test_nobody_can_revoke_another_persons_token(client, alice, admin_user):
    token, secret = make_token(alice)
    client.force_login(admin_user)  # administrators included

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert bearer(secret).get(ME_URL).status_code == 200


def test_revoking_needs_a_post(alice):
    token, _secret = make_token(alice)
    client = Client()
    client.force_login(alice)

    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None
