"""Generic tests any model of customer data reuses to prove the platform's promises.

Subclass ``ScopedModelContract`` in a test module and fill in the attributes; pytest then runs,
for that model, through the page and the API alike: no permission -> refused, permission ->
works, out of data scope -> 404, team scope sees teammates' records, a stale edit is refused,
and every write is in the journal::

    class TestGadgetContract(ScopedModelContract):
        module = "sample"
        url_namespace = "sample"
        url_model = "gadget"
        api_namespace = "sample-api"

        def make(self, *, owner, team=None):
            return Gadget.objects.create(name="x", owner=owner, team=team)

        def form_data(self):
            return {"name": "New name", "notes": ""}
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

ALL = ("view", "create", "edit", "delete", "export")


def make_user(
    *,
    module: str,
    actions: tuple[str, ...] = ALL,
    scope: str = "all",
    username: str | None = None,
    sensitive: bool = True,
) -> Any:
    """A user whose role grants ``actions`` in ``module`` with the given data scope, and the view of
    sensitive fields unless ``sensitive=False``."""
    from crm.accounts.tests.factories import RoleFactory, UserFactory

    permissions = {module: list(actions)}
    permissions.setdefault("sensitive", ["view"] if sensitive else [])
    role = RoleFactory(permissions=permissions, data_scope=scope)
    kwargs = {"username": username} if username else {}
    return UserFactory(role=role, **kwargs)


def api_client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def journal_entries(obj: Any) -> Any:
    from crm.core.models import JournalEntry

    content_type = ContentType.objects.get_for_model(type(obj))
    return JournalEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).order_by("id")


@pytest.mark.django_db
class ScopedModelContract:
    module: str = ""
    url_namespace: str = ""
    url_model: str = ""
    api_namespace: str = ""

    # --- to fill in ------------------------------------------------------------------------------
    def make(self, *, owner: Any, team: Any = None) -> Any:
        raise NotImplementedError

    def form_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def api_data(self) -> dict[str, Any]:
        return self.form_data()

    # --- helpers -------------------------------------------------------------------------------------
    def url(self, action: str, obj: Any = None) -> str:
        args = [obj.pk] if obj is not None else []
        return reverse(f"{self.url_namespace}:{self.url_model}_{action}", args=args)

    def api_url(self, obj: Any = None) -> str:
        if obj is None:
            return reverse(f"{self.api_namespace}:{self.url_model}-list")
        return reverse(f"{self.api_namespace}:{self.url_model}-detail", args=[obj.pk])

    def login(self, client: Any, user: Any) -> Any:
        client.force_login(user)
        return client

    # --- the contract --------------------------------------------------------------------------------
    def test_no_view_permission_is_refused(self, client: Any, roles: Any) -> None:
        user = make_user(module="nothing", actions=())
        record = self.make(owner=user)
        self.login(client, user)
        assert client.get(self.url("list")).status_code == 403
        assert client.get(self.url("detail", record)).status_code == 403
        assert api_client(user).get(self.api_url()).status_code == 403
        assert api_client(user).get(self.api_url(record)).status_code == 403

    def test_anonymous_is_sent_to_login_and_refused_by_api(self, client: Any, roles: Any) -> None:
        owner = make_user(module=self.module)
        record = self.make(owner=owner)
        response = client.get(self.url("detail", record))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert APIClient().get(self.api_url(record)).status_code in (401, 403)

    def test_own_scope_sees_own_records_only(self, client: Any, roles: Any) -> None:
        me = make_user(module=self.module, scope="own")
        other = make_user(module=self.module, scope="own")
        mine, theirs = self.make(owner=me), self.make(owner=other)
        self.login(client, me)
        assert client.get(self.url("detail", mine)).status_code == 200
        assert client.get(self.url("detail", theirs)).status_code == 404
        api = api_client(me)
        ids = [row["id"] for row in api.get(self.api_url()).json()["results"]]
        assert ids == [mine.pk]
        assert api.get(self.api_url(theirs)).status_code == 404
        assert api.patch(self.api_url(theirs), {"version": theirs.version}, format="json").status_code == 404
        assert api.delete(self.api_url(theirs)).status_code == 404
        assert client.post(self.url("edit", theirs), self.form_data()).status_code == 404
        assert client.post(self.url("delete", theirs)).status_code == 404
        assert type(theirs).objects.filter(pk=theirs.pk).exists()

    def test_team_scope_sees_teammates_records(self, client: Any, roles: Any) -> None:
        from crm.accounts.tests.factories import TeamFactory

        lead = make_user(module=self.module, scope="team")
        mate = make_user(module=self.module, scope="own")
        stranger = make_user(module=self.module, scope="own")
        TeamFactory(members=[lead, mate])
        TeamFactory(members=[stranger])
        mates, strangers = self.make(owner=mate), self.make(owner=stranger)
        self.login(client, lead)
        assert client.get(self.url("detail", mates)).status_code == 200
        assert client.get(self.url("detail", strangers)).status_code == 404
        ids = {row["id"] for row in api_client(lead).get(self.api_url()).json()["results"]}
        assert ids == {mates.pk}

    def test_create_needs_permission(self, client: Any, roles: Any) -> None:
        reader = make_user(module=self.module, actions=("view",))
        self.login(client, reader)
        assert client.post(self.url("create"), self.form_data()).status_code == 403
        assert api_client(reader).post(self.api_url(), self.api_data(), format="json").status_code == 403

    def test_create_through_page_and_api_is_journaled(self, client: Any, roles: Any) -> None:
        writer = make_user(module=self.module)
        self.login(client, writer)
        response = client.post(self.url("create"), self.form_data())
        assert response.status_code == 302, getattr(response, "content", b"")[:500]
        response = api_client(writer).post(self.api_url(), self.api_data(), format="json")
        assert response.status_code == 201, response.content
        created = api_client(writer).get(self.api_url()).json()["results"]
        assert len(created) == 2
        from crm.core.models import JournalEntry

        sources = set(
            JournalEntry.objects.filter(
                action="create", actor=writer, object_id__in=[str(r["id"]) for r in created]
            ).values_list("source", flat=True)
        )
        assert sources == {"web", "api"}

    def test_edit_and_stale_edit(self, client: Any, roles: Any) -> None:
        writer = make_user(module=self.module)
        record = self.make(owner=writer)
        self.login(client, writer)
        stale_version = record.version
        response = client.post(self.url("edit", record), {**self.form_data(), "version": stale_version})
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.version == stale_version + 1
        # A second editor who loaded the same version is refused, page and API alike.
        before = journal_entries(record).count()
        response = client.post(self.url("edit", record), {**self.form_data(), "version": stale_version})
        assert response.status_code == 409
        response = api_client(writer).patch(
            self.api_url(record), {**self.api_data(), "version": stale_version}, format="json"
        )
        assert response.status_code == 409 and response.json()["code"] == "conflict"
        assert journal_entries(record).count() == before

    def test_edit_and_delete_need_permission(self, client: Any, roles: Any) -> None:
        reader = make_user(module=self.module, actions=("view",))
        record = self.make(owner=reader)
        self.login(client, reader)
        assert client.post(self.url("edit", record), {**self.form_data(), "version": record.version}).status_code == 403
        assert client.post(self.url("delete", record)).status_code == 403
        api = api_client(reader)
        assert api.patch(self.api_url(record), {"version": record.version}, format="json").status_code == 403
        assert api.delete(self.api_url(record)).status_code == 403
        assert type(record).objects.filter(pk=record.pk).exists()

    def test_delete_is_journaled(self, client: Any, roles: Any) -> None:
        writer = make_user(module=self.module)
        by_page, by_api = self.make(owner=writer), self.make(owner=writer)
        self.login(client, writer)
        assert client.post(self.url("delete", by_page)).status_code == 302
        assert api_client(writer).delete(self.api_url(by_api)).status_code == 204
        model = type(by_page)
        assert not model.objects.filter(pk__in=[by_page.pk, by_api.pk]).exists()
        assert journal_entries(by_page).last().action == "delete"
        assert journal_entries(by_api).last().source == "api"

    def test_read_only_token_cannot_write(self, roles: Any) -> None:
        from crm.accounts.tests.factories import make_token

        writer = make_user(module=self.module)
        record = self.make(owner=writer)
        _token, secret = make_token(writer, read_only=True)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert api.get(self.api_url(record)).status_code == 200
        assert api.delete(self.api_url(record)).status_code == 403
        assert type(record).objects.filter(pk=record.pk).exists()


def browser_sign_in(page: Any, live_server: Any, username: str) -> None:
    """Sign a Playwright ``page`` in through the login page, as a person would (browser tests)."""
    from crm.accounts.tests.factories import PASSWORD

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
