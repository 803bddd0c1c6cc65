"""The API's one error format, {"detail", "code", "errors"}, for every way a request can go wrong:
bodies that are not JSON, unknown and read-only fields, field errors, stale edits, unknown URLs,
too many requests. Whatever goes wrong, nothing is written and nothing answers 500."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from crm.accounts.models import Team
from crm.accounts.tests.factories import make_token
from crm.core.api.throttling import PerTokenThrottle
from crm.core.models import JournalEntry
from crm.core.testing import api_client, make_user
from crm.core.tests.sample.models import Gadget

pytestmark = pytest.mark.django_db

API_GADGETS = "/api/v1/sample/gadgets/"
API_TEAMS = "/api/v1/teams/"
JSON = "application/json"


def assert_api_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


class NothingWritten:
    def __init__(self) -> None:
        self.before = self.counts()

    @staticmethod
    def counts() -> tuple[int, int, int]:
        return Gadget.objects.count(), Team.objects.count(), JournalEntry.objects.count()

    def check(self) -> None:
        assert self.counts() == self.before


@pytest.fixture
def api(admin_user: Any) -> APIClient:
    return api_client(admin_user)


@pytest.fixture
def gadget(admin_user: Any) -> Gadget:
    return Gadget.objects.create(name="Widget", notes="Original", owner=admin_user)


@pytest.fixture
def team() -> Team:
    return Team.objects.create(name="Sales", description="Original")


def gadget_url(gadget: Gadget) -> str:
    return f"{API_GADGETS}{gadget.pk}/"


def team_url(team: Team) -> str:
    return f"{API_TEAMS}{team.pk}/"


# --- bodies that are not (acceptable) JSON --------------------------------------------------------------

MALFORMED = {
    "truncated": b'{"name": ',
    "unquoted key": b'{name: "x"}',
    "single quotes": b"{'name': 'x'}",
    "trailing comma": b'{"name": "x",}',
    "trailing garbage": b'{"name": "x"} and more',
    "only spaces": b"   ",
    "not utf-8": b'\xff\xfe{"name": "x"}',
    "NaN": b'{"name": "x", "notes": NaN}',
    "Infinity": b'{"name": "x", "notes": Infinity}',
    "-Infinity": b'{"name": "x", "notes": -Infinity}',
    "NaN alone": b"NaN",
    "float overflow": b'{"name": "x", "notes": 1e999}',
    "5000-digit integer": b'{"name": "x", "version": 1' + b"0" * 5000 + b"}",
    "100000 open brackets": b"[" * 100_000,
    "100000 balanced brackets": b"[" * 100_000 + b"]" * 100_000,
    "100000 nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "deep in a field": b'{"name": "x", "notes": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    "33 levels": b'{"name": "x", "notes": ' + b"[" * 32 + b"]" * 32 + b"}",
}


class TestMalformedJson:
    @pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
    @pytest.mark.parametrize("url", [API_GADGETS, API_TEAMS])
    def test_create(self, api: APIClient, url: str, body: bytes) -> None:
        guard = NothingWritten()
        assert_api_error(api.post(url, body, content_type=JSON), 400, "parse_error")
        guard.check()

    @pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
    def test_edit(self, api: APIClient, gadget: Gadget, team: Team, body: bytes) -> None:
        guard = NothingWritten()
        for url, version in ((gadget_url(gadget), gadget.version), (team_url(team), team.version)):
            assert_api_error(api.patch(url, body, content_type=JSON, HTTP_IF_MATCH=str(version)), 400, "parse_error")
            assert_api_error(api.put(url, body, content_type=JSON, HTTP_IF_MATCH=str(version)), 400, "parse_error")
        guard.check()
        gadget.refresh_from_db()
        assert (gadget.notes, gadget.version) == ("Original", 1)

    def test_nesting_up_to_the_limit_is_parsed(self, api: APIClient, settings: Any) -> None:
        # 32 levels parse; the serializer then says what is wrong with the field.
        depth = settings.CRM_JSON_MAX_DEPTH - 1
        body = b'{"name": "x", "notes": ' + b"[" * depth + b"]" * depth + b"}"
        errors = assert_api_error(api.post(API_GADGETS, body, content_type=JSON), 400, "invalid")["errors"]
        assert list(errors) == ["notes"]

    def test_the_nesting_message_names_the_limit(self, api: APIClient) -> None:
        body = assert_api_error(api.post(API_GADGETS, b"[" * 100_000, content_type=JSON), 400, "parse_error")
        assert "nested too deeply" in body["detail"] and "32" in body["detail"]

    def test_brackets_inside_strings_are_text(self, api: APIClient) -> None:
        notes = "[{" * 50_000 + '"\\'
        response = api.post(API_GADGETS, {"name": "Brackets", "notes": notes}, format="json")
        assert response.status_code == 201, response.content[:300]
        assert Gadget.objects.get(name="Brackets").notes == notes

    def test_a_large_deep_body_is_refused_quickly(self, api: APIClient, settings: Any) -> None:
        body = b"[" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 10)
        started = time.monotonic()
        assert_api_error(api.post(API_GADGETS, body, content_type=JSON), 400, "parse_error")
        assert time.monotonic() - started < 5

    @pytest.mark.parametrize("body", [b"[]", b'"name"', b"1", b"true", b"null", b'[{"name": "x"}]'])
    def test_a_body_that_is_not_an_object(self, api: APIClient, gadget: Gadget, body: bytes) -> None:
        guard = NothingWritten()
        for url in (API_GADGETS, API_TEAMS):
            errors = assert_api_error(api.post(url, body, content_type=JSON), 400, "invalid")["errors"]
            assert list(errors) == ["non_field_errors"]
        response = api.patch(gadget_url(gadget), body, content_type=JSON, HTTP_IF_MATCH=str(gadget.version))
        assert list(assert_api_error(response, 400, "invalid")["errors"]) == ["non_field_errors"]
        guard.check()

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"name=x", "application/x-www-form-urlencoded"),
            (b"name=x", "text/plain"),
            (b"<gadget><name>x</name></gadget>", "application/xml"),
            (b'{"name": "x"}', "application/json-patch+json"),
        ],
    )
    def test_a_body_that_is_not_json(self, api: APIClient, body: bytes, content_type: str) -> None:
        guard = NothingWritten()
        assert_api_error(api.post(API_GADGETS, body, content_type=content_type), 415, "unsupported_media_type")
        guard.check()

    def test_an_empty_body_is_an_empty_object(self, api: APIClient) -> None:
        errors = assert_api_error(api.post(API_GADGETS, b"", content_type=JSON), 400, "invalid")["errors"]
        assert list(errors) == ["name"]


# --- unknown and read-only fields ---------------------------------------------------------------------


class TestFieldsACallerCannotSet:
    """Decided: the API refuses (400) a key it would otherwise drop, naming it, and writes nothing."""

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("owner", "other"),
            ("team", "team"),
            ("id", 424242),
            ("created_at", "2001-01-01T00:00:00Z"),
            ("version", 7),
            ("updated_at", "2001-01-01T00:00:00Z"),
            ("colour", "red"),
            ("tags", []),
        ],
    )
    def test_create_refuses_the_key(self, api: APIClient, roles: Any, team: Team, key: str, value: Any) -> None:
        other = make_user(module="sample")
        value = {"other": other.pk, "team": team.pk}.get(value, value) if isinstance(value, str) else value
        guard = NothingWritten()
        body = assert_api_error(api.post(API_GADGETS, {"name": "Mine", key: value}, format="json"), 400, "invalid")
        assert list(body["errors"]) == [key]
        guard.check()

    def test_every_refused_key_is_named_with_the_other_field_errors(self, api: APIClient) -> None:
        data = {"notes": "n", "owner": 1, "id": 5, "version": 3, "colour": "red"}
        errors = assert_api_error(api.post(API_GADGETS, data, format="json"), 400, "invalid")["errors"]
        assert set(errors) == {"name", "owner", "id", "version", "colour"}
        assert all(isinstance(messages, list) and messages for messages in errors.values())

    def test_created_record_is_the_requesters_and_server_made(self, api: APIClient, admin_user: Any) -> None:
        before = timezone.now()
        response = api.post(API_GADGETS, {"name": "Mine", "notes": "n"}, format="json")
        assert response.status_code == 201, response.content
        data = response.json()
        gadget = Gadget.objects.get(pk=data["id"])
        assert gadget.owner == admin_user and data["owner"] == admin_user.pk
        assert gadget.team is None and gadget.version == 1 == data["version"]
        assert gadget.created_at >= before
        assert JournalEntry.objects.filter(object_id=str(gadget.pk), action="create", actor=admin_user).count() == 1

    @pytest.mark.parametrize(
        ("key", "value"),
        [("owner", None), ("team", None), ("id", 424242), ("created_at", "2001-01-01T00:00:00Z"), ("colour", "red")],
    )
    def test_edit_refuses_the_key(self, api: APIClient, gadget: Gadget, key: str, value: Any) -> None:
        guard = NothingWritten()
        data = {"name": "Renamed", key: value, "version": gadget.version}
        body = assert_api_error(api.patch(gadget_url(gadget), data, format="json"), 400, "invalid")
        assert list(body["errors"]) == [key]
        guard.check()
        gadget.refresh_from_db()
        assert (gadget.name, gadget.version) == ("Widget", 1)

    def test_edit_takes_the_version_from_the_body(self, api: APIClient, gadget: Gadget, admin_user: Any) -> None:
        response = api.patch(gadget_url(gadget), {"name": "Renamed", "version": gadget.version}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["version"] == 2
        gadget.refresh_from_db()
        assert (gadget.name, gadget.owner, gadget.version) == ("Renamed", admin_user, 2)

    def test_full_update_with_put(self, api: APIClient, gadget: Gadget) -> None:
        response = api.put(gadget_url(gadget), {"name": "Replaced", "notes": "", "version": 1}, format="json")
        assert response.status_code == 200, response.content
        gadget.refresh_from_db()
        assert (gadget.name, gadget.notes, gadget.version) == ("Replaced", "", 2)

    def test_team_id_and_version_cannot_be_set(self, api: APIClient) -> None:
        response = api.post(API_TEAMS, {"name": "Chosen", "id": 424242, "version": 9, "colour": "red"}, format="json")
        if response.status_code == 400:
            assert {"id", "version", "colour"} <= set(assert_api_error(response, 400)["errors"])
            assert not Team.objects.filter(name="Chosen").exists()
        else:
            assert response.status_code == 201, response.content
            team = Team.objects.get(name="Chosen")
            assert team.pk != 424242 and team.version == 1
            assert response.json()["id"] == team.pk and response.json()["version"] == 1


# --- field errors --------------------------------------------------------------------------------------


class TestFieldErrors:
    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"notes": "no name"}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": ["x"]}, "name"),
            ({"name": {"x": 1}}, "name"),
            ({"name": None}, "name"),
            ({"name": "ok", "notes": None}, "notes"),
            ({"name": "ok", "notes": ["a"]}, "notes"),
        ],
    )
    def test_gadget_create(self, api: APIClient, data: dict[str, Any], field: str) -> None:
        guard = NothingWritten()
        body = assert_api_error(api.post(API_GADGETS, data, format="json"), 400, "invalid")
        assert list(body["errors"]) == [field]
        assert all(isinstance(m, str) and m for m in body["errors"][field])
        guard.check()

    def test_missing_name_says_it_is_required(self, api: APIClient) -> None:
        body = assert_api_error(api.post(API_GADGETS, {"notes": "n"}, format="json"), 400, "invalid")
        assert body["errors"] == {"name": ["This field is required."]}

    def test_gadget_edit(self, api: APIClient, gadget: Gadget) -> None:
        guard = NothingWritten()
        body = assert_api_error(
            api.patch(gadget_url(gadget), {"name": "", "version": 1}, format="json"), 400, "invalid"
        )
        assert list(body["errors"]) == ["name"]
        guard.check()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"description": "no name"}, "name"),
            ({"name": "Sales"}, "name"),
            ({"name": "New", "members": [999_999]}, "members"),
            ({"name": "New", "manager": "nobody"}, "manager"),
            ({"name": "New", "description": "x" * 256}, "description"),
        ],
    )
    def test_team_create(self, api: APIClient, team: Team, data: dict[str, Any], field: str) -> None:
        guard = NothingWritten()
        body = assert_api_error(api.post(API_TEAMS, data, format="json"), 400, "invalid")
        assert list(body["errors"]) == [field]
        guard.check()


# --- stale edits ---------------------------------------------------------------------------------------


class TestStaleEdits:
    def bump(self, api: APIClient, url: str, data: dict[str, Any]) -> None:
        assert api.patch(url, {**data, "version": 1}, format="json").status_code == 200

    @pytest.mark.parametrize("how", ["body", "if-match", "weak if-match"])
    def test_gadget_stale_version_is_a_conflict(self, api: APIClient, gadget: Gadget, how: str) -> None:
        self.bump(api, gadget_url(gadget), {"notes": "Second editor"})
        guard = NothingWritten()
        headers = {"body": {}, "if-match": {"HTTP_IF_MATCH": '"1"'}, "weak if-match": {"HTTP_IF_MATCH": 'W/"1"'}}[how]
        data = {"notes": "Lost update", **({"version": 1} if how == "body" else {})}
        body = assert_api_error(api.patch(gadget_url(gadget), data, format="json", **headers), 409, "conflict")
        assert body["errors"] == {}
        assert "changed" in body["detail"]
        guard.check()
        gadget.refresh_from_db()
        assert (gadget.notes, gadget.version) == ("Second editor", 2)

    def test_team_stale_version_is_a_conflict(self, api: APIClient, team: Team) -> None:
        self.bump(api, team_url(team), {"description": "Second editor"})
        guard = NothingWritten()
        response = api.patch(team_url(team), {"description": "Lost", "version": 1}, format="json")
        assert_api_error(response, 409, "conflict")
        response = api.patch(team_url(team), {"description": "Lost"}, format="json", HTTP_IF_MATCH="1")
        assert_api_error(response, 409, "conflict")
        guard.check()
        team.refresh_from_db()
        assert (team.description, team.version) == ("Second editor", 2)

    def test_if_match_wins_over_the_body(self, api: APIClient, gadget: Gadget) -> None:
        self.bump(api, gadget_url(gadget), {"notes": "Second editor"})
        guard = NothingWritten()
        response = api.patch(gadget_url(gadget), {"notes": "Lost", "version": 2}, format="json", HTTP_IF_MATCH="1")
        assert_api_error(response, 409, "conflict")
        guard.check()

    def test_current_version_in_if_match_saves(self, api: APIClient, gadget: Gadget) -> None:
        response = api.patch(gadget_url(gadget), {"notes": "Fresh"}, format="json", HTTP_IF_MATCH='W/"1"')
        assert response.status_code == 200, response.content
        gadget.refresh_from_db()
        assert (gadget.notes, gadget.version) == ("Fresh", 2)

    @pytest.mark.parametrize(
        ("data", "headers"),
        [
            ({"notes": "No version"}, {}),
            ({"notes": "Bad version", "version": "one"}, {}),
            ({"notes": "Null version", "version": None}, {}),
            ({"notes": "Bad header"}, {"HTTP_IF_MATCH": "*"}),
            ({"notes": "Bad header"}, {"HTTP_IF_MATCH": '"abc"'}),
        ],
    )
    def test_gadget_edit_without_a_usable_version(
        self, api: APIClient, gadget: Gadget, data: dict[str, Any], headers: dict[str, str]
    ) -> None:
        guard = NothingWritten()
        for method in (api.patch, api.put):
            full = {"name": "Widget", **data} if method == api.put else data
            body = assert_api_error(method(gadget_url(gadget), full, format="json", **headers), 400, "invalid")
            assert list(body["errors"]) == ["version"]
        guard.check()
        gadget.refresh_from_db()
        assert (gadget.notes, gadget.version) == ("Original", 1)

    def test_team_edit_without_a_version(self, api: APIClient, team: Team) -> None:
        guard = NothingWritten()
        body = assert_api_error(api.patch(team_url(team), {"description": "No version"}, format="json"), 400, "invalid")
        assert list(body["errors"]) == ["version"]
        guard.check()

    @pytest.mark.parametrize("version", [2**63, 2**70, -1, 0])
    def test_an_impossible_version_is_refused_not_a_crash(self, api: APIClient, gadget: Gadget, version: int) -> None:
        guard = NothingWritten()
        response = api.patch(gadget_url(gadget), {"notes": "Odd", "version": version}, format="json")
        assert response.status_code in (400, 409), response.content[:300]
        assert_api_error(response, response.status_code)
        response = api.patch(gadget_url(gadget), {"notes": "Odd"}, format="json", HTTP_IF_MATCH=str(version))
        assert response.status_code in (400, 409), response.content[:300]
        guard.check()


# --- unknown URLs, methods and credentials -------------------------------------------------------------


class TestNotFoundAndFriends:
    @pytest.mark.parametrize(
        "url", ["/api/v1/no-such-thing/", "/api/v1/sample/gadgets/1/nope/", "/api/v2/teams/", "/api/"]
    )
    def test_unknown_api_url_is_json_in_the_one_format(self, api: APIClient, url: str) -> None:
        body = assert_api_error(api.get(url), 404, "not_found")
        assert body["errors"] == {}
        assert_api_error(api.post(url, {"name": "x"}, format="json"), 404, "not_found")

    @pytest.mark.parametrize(
        "url", ["/api/v1/teams/abc/", "/api/v1/sample/gadgets/-1/", "/api/v1/sample/gadgets/99999999999999999999999/"]
    )
    def test_a_record_id_that_cannot_exist(self, api: APIClient, url: str) -> None:
        assert_api_error(api.get(url), 404, "not_found")
        assert_api_error(api.patch(url, {"name": "x", "version": 1}, format="json"), 404, "not_found")

    def test_unknown_api_url_without_credentials_is_json_too(self) -> None:
        assert_api_error(APIClient().get("/api/v1/no-such-thing/"), 404, "not_found")

    def test_unknown_and_unseen_records_answer_like_an_unknown_url(self, api: APIClient, roles: Any) -> None:
        owner = make_user(module="sample")
        theirs = Gadget.objects.create(name="Theirs", owner=owner)
        outsider = api_client(make_user(module="sample", scope="own"))
        unknown_url = assert_api_error(api.get("/api/v1/no-such-thing/"), 404)
        unknown_record = assert_api_error(api.get(f"{API_GADGETS}999999/"), 404)
        unseen_record = assert_api_error(outsider.get(gadget_url(theirs)), 404)
        assert unknown_url["code"] == unknown_record["code"] == unseen_record["code"] == "not_found"
        assert unknown_record == unseen_record

    def test_unknown_page_is_the_friendly_html_page(self, admin_client: Client) -> None:
        response = admin_client.get("/no-such-page/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        content = response.content.decode()
        assert "Not found" in content and "This page does not exist" in content
        assert "Back to the dashboard" in content

    def test_unknown_page_for_a_visitor_is_the_friendly_page_too(self, client: Client) -> None:
        response = client.get("/sample/gadgets/999999/nope/")
        assert response.status_code == 404
        assert b"This page does not exist" in response.content

    def test_unknown_record_page_is_the_friendly_page(self, admin_client: Client) -> None:
        response = admin_client.get("/sample/gadgets/999999/")
        assert response.status_code == 404 and b"This page does not exist" in response.content

    def test_method_not_allowed(self, api: APIClient) -> None:
        assert_api_error(api.post("/api/v1/me/", {}, format="json"), 405, "method_not_allowed")
        assert_api_error(api.delete(API_GADGETS), 405, "method_not_allowed")

    def test_missing_or_bad_credentials(self) -> None:
        assert_api_error(APIClient().get("/api/v1/me/"), 401, "not_authenticated")
        bad = APIClient()
        bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        assert_api_error(bad.get("/api/v1/me/"), 401, "authentication_failed")

    def test_no_permission(self, roles: Any) -> None:
        reader = api_client(make_user(module="sample", actions=("view",)))
        guard = NothingWritten()
        assert_api_error(reader.post(API_GADGETS, {"name": "x"}, format="json"), 403, "permission_denied")
        guard.check()


# --- throttling ----------------------------------------------------------------------------------------


class TestThrottling:
    def token_client(self, user: Any) -> APIClient:
        _token, secret = make_token(user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    def test_the_fourth_request_with_a_token_is_refused(self, admin_user: Any, roles: Any) -> None:
        first, second = self.token_client(admin_user), self.token_client(admin_user)
        other_user = self.token_client(make_user(module="sample"))
        with mock.patch.object(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"}):
            for _ in range(3):
                assert first.get("/api/v1/me/").status_code == 200
            body = assert_api_error(first.get("/api/v1/me/"), 429, "throttled")
            assert body["errors"] == {}
            refused = first.get(API_GADGETS)
            assert refused.status_code == 429
            assert 0 < int(refused["Retry-After"]) <= 60
            # Another token, even of the same user, has its own allowance.
            assert second.get("/api/v1/me/").status_code == 200
            assert other_user.get("/api/v1/me/").status_code == 200

    def test_a_throttled_write_writes_nothing(self, admin_user: Any) -> None:
        client = self.token_client(admin_user)
        with mock.patch.object(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"}):
            for n in range(3):
                assert client.post(API_GADGETS, {"name": f"G{n}"}, format="json").status_code == 201
            guard = NothingWritten()
            assert_api_error(client.post(API_GADGETS, {"name": "G3"}, format="json"), 429, "throttled")
            guard.check()

    def test_the_allowance_comes_back_after_the_window(self, admin_user: Any) -> None:
        client = self.token_client(admin_user)
        with mock.patch.object(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"}):
            now = time.time()
            with mock.patch.object(PerTokenThrottle, "timer", lambda self: now):
                for _ in range(3):
                    assert client.get("/api/v1/me/").status_code == 200
                assert client.get("/api/v1/me/").status_code == 429
            with mock.patch.object(PerTokenThrottle, "timer", lambda self: now + 61):
                assert client.get("/api/v1/me/").status_code == 200

    def test_session_users_are_counted_per_user(self, admin_user: Any, roles: Any) -> None:
        me, other = APIClient(), APIClient()
        me.force_login(admin_user)
        other.force_login(make_user(module="sample"))
        with mock.patch.object(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"}):
            for _ in range(3):
                assert me.get("/api/v1/me/").status_code == 200
            assert_api_error(me.get("/api/v1/me/"), 429, "throttled")
            assert other.get("/api/v1/me/").status_code == 200
