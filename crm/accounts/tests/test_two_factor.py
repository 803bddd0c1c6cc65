"""Two-factor authentication: enrolment, the second sign-in step, recovery codes, lock-out, resets."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.accounts.models import RecoveryCode, hash_secret
from crm.accounts.services import RECOVERY_CODE_COUNT
from crm.accounts.tests.conftest import error_text, sign_in, signed_in_user_id, totp_code, wrong_code
from crm.accounts.tests.factories import PASSWORD, RoleFactory, UserFactory
from crm.accounts.views.auth import PENDING_KEY, PENDING_SECONDS

pytestmark = pytest.mark.django_db

TWO_FACTOR_URL = "/accounts/two-factor/"
VERIFY_URL = "/accounts/login/verify/"
WRONG = "That code is not right, or it was already used."


@pytest.fixture
def alice(roles):
    return UserFactory(username="alice", email="alice@example.com", role=roles["sales_rep"])


def recovery_codes_on(response) -> list[str]:
    block = re.search(r'<pre id="recovery-codes"[^>]*>(.*?)</pre>', response.content.decode(), re.S)
    assert block, "no recovery codes on the page"
    return block.group(1).split()


def enrol(client, user) -> tuple[TOTPDevice, list[str]]:
    """Go through the set-up page as the person would, with an authenticator app."""
    client.force_login(user)
    client.get(TWO_FACTOR_URL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(TWO_FACTOR_URL, {"code": totp_code(device)})
    assert response.status_code == 200
    client.post("/accounts/logout/")
    device.refresh_from_db()
    return device, recovery_codes_on(response)


def verify(client, code: str, **data):
    return client.post(VERIFY_URL, {"code": code, **data})


# --- enrolment -------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_then_a_code_turns_it_on(client, alice):
    client.force_login(alice)

    # When Alice opens the two-factor page
    page = client.get(TWO_FACTOR_URL)

    # Then she sees a QR code (an inline image) and the key to type instead, for a new unconfirmed device
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<img class="crm-qr" src="data:image/svg\+xml', html)
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    shown = re.search(r'data-testid="totp-secret">([^<]*)<', html).group(1)
    assert shown.replace(" ", "") == key

    # When she enters the code her app shows
    response = client.post(TWO_FACTOR_URL, {"code": totp_code(device)})

    # Then two-factor is on and she sees ten recovery codes, once; only their hashes are stored
    assert response.status_code == 200
    assert "Two-factor authentication is on." in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    codes = recovery_codes_on(response)
    assert len(codes) == RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=alice).values_list("code_hash", flat=True))
    assert stored == {hash_secret(code) for code in codes}
    assert not stored & set(codes)
    after = client.get(TWO_FACTOR_URL).content.decode()
    assert not any(code in after for code in codes)
    assert "10 recovery codes left." in after


def test_a_wrong_code_during_enrolment_is_refused_and_nothing_is_turned_on(client, alice):
    client.force_login(alice)
    client.get(TWO_FACTOR_URL)
    device = TOTPDevice.objects.get(user=alice)

    response = client.post(TWO_FACTOR_URL, {"code": wrong_code(device)})

    assert response.status_code == 400
    assert "That code is not right. Check the time on your phone and try again." in error_text(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert not alice.has_two_factor
    assert not RecoveryCode.objects.filter(user=alice).exists()
    # The same key is offered again so that the app need not be set up twice
    assert TOTPDevice.objects.filter(user=alice).count() == 1


def test_a_code_for_another_persons_set_up_is_refused(client, alice, roles):
    bob = UserFactory(username="bob", role=roles["sales_rep"])
    other = Client()
    other.force_login(bob)
    other.get(TWO_FACTOR_URL)
    bobs_device = TOTPDevice.objects.get(user=bob)

    client.force_login(alice)
    response = client.post(TWO_FACTOR_URL, {"code": totp_code(bobs_device)})

    assert response.status_code == 302  # Alice has no set-up of her own in progress
    bobs_device.refresh_from_db()
    assert not bobs_device.confirmed
    assert not alice.has_two_factor


# --- the second sign-in step ----------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_and_a_correct_code_signs_in(client, alice):
    device, _codes = enrol(Client(), alice)

    # When Alice signs in with her password
    response = sign_in(client, "alice", PASSWORD)

    # Then she is asked for her code and is not signed in yet
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert signed_in_user_id(client) is None
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert "Enter the code from your authenticator app." in client.get(VERIFY_URL).content.decode()

    # When she enters the code from her app
    response = verify(client, totp_code(device))

    # Then she is signed in
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(alice.pk)


def test_a_wrong_code_is_refused(client, alice):
    device, _codes = enrol(Client(), alice)
    sign_in(client, "alice", PASSWORD)

    response = verify(client, wrong_code(device))

    assert response.status_code == 400
    assert WRONG in error_text(response)
    assert signed_in_user_id(client) is None


def test_a_code_is_accepted_only_once(client, alice):
    device, _codes = enrol(Client(), alice)
    code = totp_code(device)
    sign_in(client, "alice", PASSWORD)
    assert verify(client, code).status_code == 302
    client.post("/accounts/logout/")

    sign_in(client, "alice", PASSWORD)
    response = verify(client, code)

    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_the_code_step_cannot_be_reached_without_the_password(client, alice):
    device, _codes = enrol(Client(), alice)

    response = verify(client, totp_code(device))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user_id(client) is None


def test_a_recovery_code_works_once(client, alice):
    _device, codes = enrol(Client(), alice)

    # A recovery code signs in (typed in capitals, with spaces around it)
    sign_in(client, "alice", PASSWORD)
    response = verify(client, f"  {codes[3].upper()} ")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(alice.pk)
    client.post("/accounts/logout/")

    # The same code a second time is refused
    sign_in(client, "alice", PASSWORD)
    response = verify(client, codes[3])
    assert response.status_code == 400
    assert WRONG in error_text(response)
    assert signed_in_user_id(client) is None

    # Another one still works
    assert verify(client, codes[4]).status_code == 302
    assert RecoveryCode.objects.filter(user=alice, used_at__isnull=False).count() == 2


def test_wrong_codes_count_towards_the_lock_out(client, alice):
    _device, codes = enrol(Client(), alice)
    limit = settings.AXES_FAILURE_LIMIT
    sign_in(client, "alice", PASSWORD)

    statuses = [verify(client, "00000000-00000000").status_code for _ in range(limit)]

    # The last wrong code locks the account: no code, recovery code or password gets in now
    assert statuses == [400] * (limit - 1) + [429]
    assert verify(client, codes[0]).status_code == 302  # the pending step is gone: back to sign in
    assert signed_in_user_id(client) is None
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert RecoveryCode.objects.filter(user=alice, used_at__isnull=True).count() == 10


def test_wrong_passwords_and_wrong_codes_add_up_whichever_name_was_typed(client, alice):
    enrol(Client(), alice)
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        sign_in(client, "alice@example.com", "not the password at all")

    sign_in(client, "ALICE@example.com", PASSWORD)
    response = verify(client, "00000000-00000000")

    assert response.status_code == 429
    assert sign_in(Client(), "alice", PASSWORD).status_code == 429


def test_the_pending_code_step_expires(client, alice):
    device, _codes = enrol(Client(), alice)
    sign_in(client, "alice", PASSWORD)

    # When more than PENDING_SECONDS pass between the password and the code
    session = client.session
    pending = session[PENDING_KEY]
    pending["at"] = time.time() - PENDING_SECONDS - 1
    session[PENDING_KEY] = pending
    session.save()
    response = verify(client, totp_code(device))

    # Then the code is not taken: sign in again
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user_id(client) is None
    assert "Please sign in again." in client.get("/accounts/login/").content.decode()


def test_the_page_asked_for_is_kept_across_the_code_step(client, alice):
    device, _codes = enrol(Client(), alice)
    target = "/search/?q=acme&page=2"

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": target})
    verify_page = client.get(response["Location"])
    assert verify_page.status_code == 200
    next_value = re.search(r'name="next" value="([^"]*)"', verify_page.content.decode()).group(1)
    response = verify(client, totp_code(device), next=next_value.replace("&amp;", "&"))

    assert response.status_code == 302
    assert response["Location"] == target


# --- a role that requires two-factor ----------------------------------------------------------------------


def test_a_role_that_requires_two_factor_sends_a_user_without_it_to_enrol(client):
    role = RoleFactory(name="Finance", require_two_factor=True)
    carol = UserFactory(username="carol", role=role)

    # When Carol, who has no authenticator yet, signs in and opens an ordinary page
    assert sign_in(client, "carol", PASSWORD).status_code == 302
    response = client.get("/")

    # Then she is sent to set up two-factor first
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/?required=1"
    page = client.get(response["Location"])
    assert "Your role requires two-factor authentication." in page.content.decode()
    assert client.get("/search/?q=x")["Location"] == "/accounts/two-factor/?required=1"

    # When she enrols, the CRM opens up
    device = TOTPDevice.objects.get(user=carol)
    assert client.post(TWO_FACTOR_URL, {"code": totp_code(device)}).status_code == 200
    assert client.get("/").status_code == 200


def test_a_role_without_the_requirement_leaves_users_alone(client, alice):
    client.force_login(alice)
    assert client.get("/").status_code == 200


# --- turning it off and the administrator's reset ----------------------------------------------------------


def test_the_administrator_reset_removes_devices_and_recovery_codes(admin_client, alice):
    enrol(Client(), alice)
    assert alice.has_two_factor

    response = admin_client.post(f"/settings/users/{alice.pk}/reset-two-factor/")

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.filter(user=alice).exists()
    # Alice signs in with her password alone again
    fresh = Client()
    assert sign_in(fresh, "alice", PASSWORD)["Location"] == "/"
    assert signed_in_user_id(fresh) == str(alice.pk)


def test_someone_without_user_admin_rights_cannot_reset_another_persons_two_factor(client, alice, roles):
    enrol(Client(), alice)
    bob = UserFactory(username="bob", role=roles["sales_rep"])
    client.force_login(bob)

    response = client.post(f"/settings/users/{alice.pk}/reset-two-factor/")

    assert response.status_code == 403
    assert alice.has_two_factor


def test_a_person_can_turn_their_own_two_factor_off(client, alice):
    enrol(Client(), alice)
    client.force_login(alice)

    response = client.post("/accounts/two-factor/disable/")

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.filter(user=alice).exists()


def test_new_recovery_codes_replace_the_old_ones(client, alice):
    _device, old_codes = enrol(Client(), alice)
    client.force_login(alice)

    new_codes = recovery_codes_on(client.post("/accounts/two-factor/recovery-codes/"))

    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    client.post("/accounts/logout/")
    sign_in(client, "alice", PASSWORD)
    assert verify(client, old_codes[0]).status_code == 400
