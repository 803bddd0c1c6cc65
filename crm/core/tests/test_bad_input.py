"""Bad input is refused before it is written: a form without its CSRF token, an oversized field,
a NUL byte or a lone surrogate anywhere in a request; markup typed into a text field is kept as
text and always shown escaped."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.test import APIClient

from crm.accounts.models import Team
from crm.accounts.tests.factories import make_token
from crm.core.models import JournalEntry
from crm.core.testing import api_client
from crm.core.tests.sample.models import Gadget

pytestmark = pytest.mark.django_db

GADGETS = "/sample/gadgets/"
NEW_GADGET = "/sample/gadgets/new/"
NEW_TEAM = "/settings/teams/new/"
API_GADGETS = "/api/v1/sample/gadgets/"
API_TEAMS = "/api/v1/teams/"
TEN_MB = 10 * 1024 * 1024
FORM = "application/x-www-form-urlencoded"


class NothingWritten:
    """Counts gadgets, teams and journal entries before a request and checks they did not move."""

    def __init__(self) -> None:
        self.before = self.counts()

    @staticmethod
    def counts() -> tuple[int, int, int]:
        return Gadget.objects.count(), Team.objects.count(), JournalEntry.objects.count()

    def check(self) -> None:
        assert self.counts() == self.before


def assert_api_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    return body


def multipart_body(fields: dict[str, bytes], boundary: str = "CrmTestBoundary") -> bytes:
    """A multipart body built by hand, so that a field can carry bytes a client library would refuse."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


@pytest.fixture
def page(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def api(admin_user: Any) -> APIClient:
    return api_client(admin_user)


# --- CSRF ---------------------------------------------------------------------------------------------


class TestCsrf:
    @pytest.mark.parametrize(
        ("url", "data"),
        [(NEW_GADGET, {"name": "No token", "notes": ""}), (NEW_TEAM, {"name": "No token", "description": ""})],
    )
    def test_page_post_without_token_gets_the_form_expired_page(
        self, admin_user: Any, url: str, data: dict[str, str]
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        guard = NothingWritten()
        response = client.post(url, data)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        content = response.content.decode()
        assert "Form expired" in content
        assert "Reload the page and try again." in content
        guard.check()

    def test_page_post_with_a_wrong_token_is_refused_too(self, admin_user: Any) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        client.get(NEW_GADGET)
        guard = NothingWritten()
        response = client.post(NEW_GADGET, {"name": "Forged", "csrfmiddlewaretoken": "x" * 64})
        assert response.status_code == 403 and b"Form expired" in response.content
        guard.check()

    def test_page_post_with_the_token_is_saved(self, admin_user: Any) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        assert client.get(NEW_GADGET).status_code == 200
        token = client.cookies["csrftoken"].value
        response = client.post(NEW_GADGET, {"name": "With token", "notes": "", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert Gadget.objects.filter(name="With token", owner=admin_user).exists()

    @pytest.mark.parametrize(("url", "data"), [(API_GADGETS, {"name": "No token"}), (API_TEAMS, {"name": "No token"})])
    def test_api_write_with_session_and_no_token_is_refused(
        self, admin_user: Any, url: str, data: dict[str, str]
    ) -> None:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(admin_user)
        guard = NothingWritten()
        body = assert_api_error(client.post(url, data, format="json"), 403)
        assert "CSRF" in body["detail"]
        guard.check()

    def test_api_write_with_a_bearer_token_needs_no_csrf_token(self, admin_user: Any) -> None:
        _token, secret = make_token(admin_user)
        client = APIClient(enforce_csrf_checks=True)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        response = client.post(API_GADGETS, {"name": "By token"}, format="json")
        assert response.status_code == 201, response.content


# --- oversized bodies ------------------------------------------------------------------------------


class TestOversized:
    def test_ten_megabyte_urlencoded_form_field(self, page: Client) -> None:
        guard = NothingWritten()
        body = urlencode({"name": "Big", "notes": "x" * TEN_MB})
        response = page.post(NEW_GADGET, body, content_type=FORM)
        assert response.status_code == 400
        assert b"The request is too large" in response.content
        guard.check()

    def test_ten_megabyte_multipart_form_field(self, page: Client) -> None:
        guard = NothingWritten()
        response = page.post(NEW_GADGET, {"name": "Big", "notes": "x" * TEN_MB})
        assert response.status_code == 400
        assert b"The request is too large" in response.content
        guard.check()

    def test_ten_megabyte_team_description_on_the_page(self, page: Client) -> None:
        guard = NothingWritten()
        response = page.post(NEW_TEAM, urlencode({"name": "Big", "description": "x" * TEN_MB}), content_type=FORM)
        assert response.status_code == 400
        assert b"The request is too large" in response.content
        guard.check()

    def test_ten_megabyte_json_body(self, api: APIClient) -> None:
        guard = NothingWritten()
        response = api.post(API_GADGETS, {"name": "Big", "notes": "x" * TEN_MB}, format="json")
        assert assert_api_error(response, 400)["code"] == "too_large"
        guard.check()

    def test_ten_megabyte_json_body_on_edit(self, api: APIClient, admin_user: Any) -> None:
        gadget = Gadget.objects.create(name="Small", owner=admin_user)
        guard = NothingWritten()
        response = api.patch(
            f"{API_GADGETS}{gadget.pk}/", {"notes": "x" * TEN_MB, "version": gadget.version}, format="json"
        )
        assert assert_api_error(response, 400)["code"] == "too_large"
        guard.check()
        gadget.refresh_from_db()
        assert gadget.notes == "" and gadget.version == 1

    def test_ten_megabyte_json_team(self, api: APIClient) -> None:
        guard = NothingWritten()
        response = api.post(API_TEAMS, {"name": "Big", "description": "x" * TEN_MB}, format="json")
        assert assert_api_error(response, 400)["code"] == "too_large"
        guard.check()

    def test_ten_megabyte_form_body_to_the_api_is_refused_in_the_api_format(self, api: APIClient) -> None:
        guard = NothingWritten()
        response = api.post(API_GADGETS, urlencode({"name": "Big", "notes": "x" * TEN_MB}), content_type=FORM)
        assert assert_api_error(response, 400)["code"] == "too_large"
        guard.check()

    def test_a_body_just_under_the_limit_is_accepted(self, api: APIClient, settings: Any) -> None:
        notes = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 1000)
        response = api.post(API_GADGETS, {"name": "Large but fine", "notes": notes}, format="json")
        assert response.status_code == 201, response.content[:300]
        assert len(Gadget.objects.get(name="Large but fine").notes) == len(notes)


# --- NUL bytes and lone surrogates --------------------------------------------------------------------

# Percent-encoded as a browser or a script would send them: a NUL byte, the UTF-8 encoding of a lone
# surrogate (which is not valid UTF-8), and a stray continuation byte.
BAD_ENCODED = ["%00", "a%00b", "%ED%A0%80", "x%ED%B2%A9y", "%80"]
BAD_TEXT = ["\x00", "name\x00", "\ud800", "a\udfffb"]


class TestBadCharactersInQueryStrings:
    @pytest.mark.parametrize("bad", BAD_ENCODED)
    @pytest.mark.parametrize(
        "template",
        [
            "/settings/audit-log/?object_id={}",
            "/settings/audit-log/?action=create&object_id={}",
            "/settings/audit-log/?{}=1",
            "/sample/gadgets/?q={}",
            "/search/?q={}",
        ],
    )
    def test_page(self, page: Client, template: str, bad: str) -> None:
        response = page.get(template.format(bad))
        assert response.status_code == 400
        assert b"not allowed" in response.content

    @pytest.mark.parametrize("bad", BAD_ENCODED)
    @pytest.mark.parametrize(
        "template",
        ["/api/v1/journal/?object_id={}", "/api/v1/sample/gadgets/?name={}", "/api/v1/teams/?x={}", "/api/v1/me/?q={}"],
    )
    def test_api(self, api: APIClient, template: str, bad: str) -> None:
        body = assert_api_error(api.get(template.format(bad)), 400)
        assert body["code"] == "invalid_characters"

    def test_api_error_names_the_parameter(self, api: APIClient) -> None:
        body = assert_api_error(api.get("/api/v1/journal/?action=create&object_id=%00"), 400)
        assert list(body["errors"]) == ["object_id"]

    def test_good_text_passes(self, page: Client, api: APIClient) -> None:
        # Valid multi-byte text (and a literal replacement character) is not refused.
        assert page.get("/settings/audit-log/?object_id=%E4%B8%AD%E6%96%87").status_code == 200
        assert page.get("/settings/audit-log/?object_id=%EF%BF%BD").status_code == 200
        assert api.get("/api/v1/journal/?object_id=caf%C3%A9").status_code == 200
        assert api.get("/api/v1/journal/?object_id=a+b%2Bc").status_code == 200

    def test_nul_in_the_path(self, page: Client, api: APIClient) -> None:
        assert page.get("/sample/gadgets/%00/").status_code == 400
        assert_api_error(api.get("/api/v1/sample/gadgets/%00/"), 400)


class TestBadCharactersInForms:
    @pytest.mark.parametrize("bad", BAD_ENCODED)
    @pytest.mark.parametrize("field", ["name", "notes"])
    def test_urlencoded_gadget_create(self, page: Client, field: str, bad: str) -> None:
        values = {"name": "Fine", "notes": "Fine"}
        body = "&".join(f"{k}={bad if k == field else v}" for k, v in values.items())
        guard = NothingWritten()
        response = page.post(NEW_GADGET, body, content_type=FORM)
        assert response.status_code == 400
        assert b"not allowed" in response.content
        guard.check()

    @pytest.mark.parametrize("bad", BAD_ENCODED)
    def test_urlencoded_field_name(self, page: Client, bad: str) -> None:
        guard = NothingWritten()
        response = page.post(NEW_GADGET, f"name=Fine&notes=ok&x{bad}=1", content_type=FORM)
        assert response.status_code == 400
        guard.check()

    @pytest.mark.parametrize("bad", ["%00", "%ED%A0%80"])
    def test_urlencoded_team_create_and_edit(self, page: Client, bad: str) -> None:
        team = Team.objects.create(name="Existing")
        guard = NothingWritten()
        assert page.post(NEW_TEAM, f"name=T{bad}", content_type=FORM).status_code == 400
        response = page.post(f"/settings/teams/{team.pk}/", f"name=T{bad}&version={team.version}", content_type=FORM)
        assert response.status_code == 400
        guard.check()
        team.refresh_from_db()
        assert team.name == "Existing"

    @pytest.mark.parametrize("bad", [b"\x00", b"a\x00b", b"\xed\xa0\x80", b"x\xed\xb2\xa9y", b"\x80", b"\xff"])
    @pytest.mark.parametrize("field", ["name", "notes"])
    def test_multipart_gadget_create(self, page: Client, field: str, bad: bytes) -> None:
        fields = {"name": b"Fine", "notes": b"Fine"}
        fields[field] = bad
        guard = NothingWritten()
        response = page.generic(
            "POST", NEW_GADGET, multipart_body(fields), content_type="multipart/form-data; boundary=CrmTestBoundary"
        )
        assert response.status_code == 400
        guard.check()

    def test_multipart_with_good_text_is_saved(self, page: Client, admin_user: Any) -> None:
        fields = {"name": "Café 中文".encode(), "notes": b"ok"}
        response = page.generic(
            "POST", NEW_GADGET, multipart_body(fields), content_type="multipart/form-data; boundary=CrmTestBoundary"
        )
        assert response.status_code == 302
        assert Gadget.objects.filter(name="Café 中文", owner=admin_user).exists()

    def test_urlencoded_edit_is_refused_and_the_record_unchanged(self, page: Client, admin_user: Any) -> None:
        gadget = Gadget.objects.create(name="Before", owner=admin_user)
        guard = NothingWritten()
        response = page.post(
            f"/sample/gadgets/{gadget.pk}/edit/", f"name=After%00&version={gadget.version}", content_type=FORM
        )
        assert response.status_code == 400
        guard.check()
        gadget.refresh_from_db()
        assert (gadget.name, gadget.version) == ("Before", 1)

    def test_audit_export_filter(self, page: Client) -> None:
        from crm.core.models import Job

        response = page.post("/settings/audit-log/export/", "object_id=%00", content_type=FORM)
        assert response.status_code == 400
        assert not Job.objects.exists()


def json_body(data: Any) -> str:
    """JSON text with every non-ASCII character escaped, so lone surrogates can be sent."""
    return json.dumps(data, ensure_ascii=True)


class TestBadCharactersInJson:
    @pytest.mark.parametrize("bad", BAD_TEXT)
    @pytest.mark.parametrize("field", ["name", "notes"])
    def test_gadget_create(self, api: APIClient, field: str, bad: str) -> None:
        data = {"name": "Fine", "notes": "Fine", field: bad}
        guard = NothingWritten()
        body = assert_api_error(api.post(API_GADGETS, json_body(data), content_type="application/json"), 400)
        assert list(body["errors"]) == [field]
        guard.check()

    @pytest.mark.parametrize("bad", BAD_TEXT)
    def test_gadget_edit(self, api: APIClient, admin_user: Any, bad: str) -> None:
        gadget = Gadget.objects.create(name="Before", owner=admin_user)
        guard = NothingWritten()
        data = {"notes": bad, "version": gadget.version}
        body = assert_api_error(
            api.patch(f"{API_GADGETS}{gadget.pk}/", json_body(data), content_type="application/json"), 400
        )
        assert "notes" in body["errors"]
        guard.check()
        gadget.refresh_from_db()
        assert (gadget.notes, gadget.version) == ("", 1)

    @pytest.mark.parametrize("bad", BAD_TEXT)
    @pytest.mark.parametrize("field", ["name", "description"])
    def test_team_create(self, api: APIClient, field: str, bad: str) -> None:
        data = {"name": "Fine", "description": "Fine", field: bad}
        guard = NothingWritten()
        body = assert_api_error(api.post(API_TEAMS, json_body(data), content_type="application/json"), 400)
        assert field in body["errors"]
        guard.check()

    @pytest.mark.parametrize("bad", BAD_TEXT)
    @pytest.mark.parametrize("url", [API_GADGETS, API_TEAMS])
    def test_in_a_key_or_a_nested_value(self, api: APIClient, url: str, bad: str) -> None:
        guard = NothingWritten()
        response = api.post(url, json_body({"name": "Fine", f"x{bad}": 1}), content_type="application/json")
        assert list(assert_api_error(response, 400)["errors"]) == ["non_field_errors"]
        response = api.post(
            url, json_body({"name": "Fine", "members": [{"deep": bad}]}), content_type="application/json"
        )
        assert list(assert_api_error(response, 400)["errors"]) == ["members"]
        response = api.post(
            url, json_body({"name": "Fine", "members": [{f"key{bad}": 1}]}), content_type="application/json"
        )
        assert list(assert_api_error(response, 400)["errors"]) == ["members"]
        response = api.post(url, json_body([{"name": bad}]), content_type="application/json")
        assert list(assert_api_error(response, 400)["errors"]) == ["non_field_errors"]
        guard.check()

    @pytest.mark.parametrize("bad", BAD_TEXT)
    def test_in_a_json_field(self, api: APIClient, bad: str) -> None:
        guard = NothingWritten()
        role = {"name": "Role", "data_scope": "own", "permissions": {"sample": ["view"], f"sample{bad}": ["view"]}}
        response = api.post("/api/v1/roles/", json_body(role), content_type="application/json")
        assert list(assert_api_error(response, 400)["errors"]) == ["permissions"]
        guard.check()

    @pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b"\xff", b"\xc3"])
    def test_invalid_utf8_bytes_in_the_body(self, api: APIClient, raw: bytes) -> None:
        guard = NothingWritten()
        body = b'{"name": "' + raw + b'"}'
        assert_api_error(api.post(API_GADGETS, body, content_type="application/json"), 400)
        guard.check()

    def test_escaped_good_text_is_saved(self, api: APIClient) -> None:
        # A surrogate pair (an emoji) is good text; only a lone half is refused.
        response = api.post(API_GADGETS, json_body({"name": "Rocket \U0001f680 中文"}), content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["name"] == "Rocket \U0001f680 中文"


# --- markup is text --------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = '<img src=x onerror="alert(2)">'
IMG_ESCAPED = "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"


def assert_escaped(html: str, *, raw: str, escaped: str) -> None:
    assert escaped in html
    assert raw not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html


class TestMarkupIsText:
    def test_gadget_from_the_page(self, page: Client, admin_user: Any) -> None:
        response = page.post(NEW_GADGET, {"name": SCRIPT, "notes": IMG})
        assert response.status_code == 302
        gadget = Gadget.objects.get(owner=admin_user)
        assert (gadget.name, gadget.notes) == (SCRIPT, IMG)
        detail = page.get(f"/sample/gadgets/{gadget.pk}/").content.decode()
        assert_escaped(detail, raw=SCRIPT, escaped=SCRIPT_ESCAPED)
        assert_escaped(detail, raw=IMG, escaped=IMG_ESCAPED)
        assert_escaped(page.get(GADGETS).content.decode(), raw=SCRIPT, escaped=SCRIPT_ESCAPED)
        assert_escaped(
            page.get(f"/sample/gadgets/{gadget.pk}/edit/").content.decode(), raw=SCRIPT, escaped=SCRIPT_ESCAPED
        )

    def test_gadget_from_the_api(self, page: Client, api: APIClient) -> None:
        response = api.post(API_GADGETS, {"name": SCRIPT, "notes": IMG}, format="json")
        assert response.status_code == 201, response.content
        assert (response.json()["name"], response.json()["notes"]) == (SCRIPT, IMG)
        pk = response.json()["id"]
        assert api.get(f"{API_GADGETS}{pk}/").json()["name"] == SCRIPT
        assert [row["name"] for row in api.get(API_GADGETS).json()["results"]] == [SCRIPT]
        assert_escaped(page.get(f"/sample/gadgets/{pk}/").content.decode(), raw=IMG, escaped=IMG_ESCAPED)
        assert_escaped(page.get(GADGETS).content.decode(), raw=SCRIPT, escaped=SCRIPT_ESCAPED)

    def test_journal_keeps_text_and_the_audit_log_escapes_it(self, page: Client, api: APIClient) -> None:
        pk = api.post(API_GADGETS, {"name": SCRIPT, "notes": IMG}, format="json").json()["id"]
        entries = api.get(f"/api/v1/journal/?object_id={pk}").json()["results"]
        assert entries[0]["object_repr"] == SCRIPT
        assert entries[0]["changes"]["notes"] == [None, IMG]
        audit = page.get(f"/settings/audit-log/?object_id={pk}").content.decode()
        assert_escaped(audit, raw=SCRIPT, escaped=SCRIPT_ESCAPED)
        assert_escaped(audit, raw=IMG, escaped=IMG_ESCAPED)

    def test_team_from_the_api_and_the_page(self, page: Client, api: APIClient) -> None:
        response = api.post(API_TEAMS, {"name": SCRIPT, "description": IMG}, format="json")
        assert response.status_code == 201, response.content
        assert (response.json()["name"], response.json()["description"]) == (SCRIPT, IMG)
        assert page.post(NEW_TEAM, {"name": "<b>bold</b>", "description": ""}).status_code == 302
        assert Team.objects.filter(name="<b>bold</b>").exists()
        listing = page.get("/settings/teams/").content.decode()
        assert_escaped(listing, raw=SCRIPT, escaped=SCRIPT_ESCAPED)
        assert_escaped(listing, raw=IMG, escaped=IMG_ESCAPED)
        assert "&lt;b&gt;bold&lt;/b&gt;" in listing and "<b>bold</b>" not in listing
        team = Team.objects.get(name=SCRIPT)
        assert_escaped(page.get(f"/settings/teams/{team.pk}/").content.decode(), raw=SCRIPT, escaped=SCRIPT_ESCAPED)
        assert [t["name"] for t in api.get(API_TEAMS).json()["results"] if t["id"] == team.pk] == [SCRIPT]

    def test_search_results_escape_the_query(self, page: Client) -> None:
        html = page.get("/search/", {"q": SCRIPT}).content.decode()
        assert "<script>alert" not in html
