"""Administration of users, teams and roles (/settings/...): who may, what it does, and its guards."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client

from crm.accounts.models import Role, Team, User
from crm.accounts.tests.conftest import error_text, sign_in
from crm.accounts.tests.factories import PASSWORD, RoleFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(roles):
    return UserFactory(username="rep", email="rep@example.com", role=roles["sales_rep"])


@pytest.fixture
def rep_client(rep):
    client = Client()
    client.force_login(rep)
    return client


def page_text(response) -> str:
    return unescape(response.content.decode())


def user_form_data(user: User, **changes) -> dict:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role_id or "",
        "language": user.language,
        "time_zone": user.time_zone,
        "version": user.version,
        "teams": list(user.teams.values_list("pk", flat=True)),
    }
    if user.is_away:
        data["is_away"] = "on"
    data.update(changes)
    return data


def team_form_data(team: Team | None = None, **changes) -> dict:
    data = {"name": "", "description": "", "manager": "", "members": []}
    if team is not None:
        data.update(
            name=team.name,
            description=team.description,
            manager=team.manager_id or "",
            members=list(team.members.values_list("pk", flat=True)),
            version=team.version,
        )
    data.update(changes)
    return data


# --- who may ---------------------------------------------------------------------------------------------


def test_a_sales_rep_is_refused_every_administration_page(rep_client, rep, roles):
    team = TeamFactory(name="North")
    role = RoleFactory(name="Custom")
    pages = [
        "/settings/users/",
        "/settings/users/invite/",
        f"/settings/users/{rep.pk}/",
        "/settings/teams/",
        "/settings/teams/new/",
        f"/settings/teams/{team.pk}/",
        "/settings/roles/",
        "/settings/roles/new/",
        f"/settings/roles/{role.pk}/",
    ]
    for url in pages:
        assert rep_client.get(url).status_code == 403, url


def test_a_sales_rep_cannot_change_anything_by_posting(rep_client, rep, admin_user, roles):
    team = TeamFactory(name="North")
    role = RoleFactory(name="Custom")
    posts = [
        ("/settings/users/invite/", {"email": "x@example.com", "role": roles["administrator"].pk}),
        (f"/settings/users/{rep.pk}/", user_form_data(rep, role=roles["administrator"].pk)),
        (f"/settings/users/{admin_user.pk}/active/", {"active": "0"}),
        (f"/settings/users/{admin_user.pk}/reset-two-factor/", {}),
        ("/settings/teams/new/", team_form_data(name="Mine")),
        (f"/settings/teams/{team.pk}/", team_form_data(team, name="Taken over")),
        (f"/settings/teams/{team.pk}/delete/", {}),
        ("/settings/roles/new/", {"name": "Superpowers", "data_scope": "all", "perm__accounts__edit": "on"}),
        (f"/settings/roles/{role.pk}/", {"name": "Renamed", "data_scope": "all", "version": role.version}),
        (f"/settings/roles/{role.pk}/delete/", {}),
    ]
    for url, data in posts:
        assert rep_client.post(url, data).status_code == 403, url

    rep.refresh_from_db()
    admin_user.refresh_from_db()
    assert rep.role == roles["sales_rep"]
    assert admin_user.is_active
    assert list(Team.objects.values_list("name", flat=True)) == ["North"]
    assert Role.objects.filter(name="Custom").exists()
    assert not Role.objects.filter(name__in=["Superpowers", "Renamed"]).exists()
    assert not User.objects.filter(email="x@example.com").exists()
    assert mail.outbox == []


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in ["/settings/users/", "/settings/teams/", "/settings/roles/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- users -------------------------------------------------------------------------------------------------


def test_the_user_list_shows_people_and_finds_them(admin_client, rep):
    page = page_text(admin_client.get("/settings/users/"))
    assert "rep@example.com" in page
    assert "boss" in page

    found = page_text(admin_client.get("/settings/users/?q=rep%40"))
    assert "rep@example.com" in found
    assert "boss@example.com" not in found


def test_an_administrator_invites_a_user(admin_client, roles, django_capture_on_commit_callbacks):
    team = TeamFactory(name="North")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/settings/users/invite/",
            {
                "email": " Dana@Example.com ",
                "first_name": "Dana",
                "role": roles["sales_manager"].pk,
                "teams": [team.pk],
            },
        )

    assert response.status_code == 302
    dana = User.objects.get(email="dana@example.com")
    assert dana.username == "dana@example.com"
    assert dana.role == roles["sales_manager"]
    assert list(dana.teams.all()) == [team]
    assert not dana.has_usable_password()
    assert [message.to for message in mail.outbox] == [["dana@example.com"]]
    listing = page_text(admin_client.get("/settings/users/"))
    assert "Invitation sent to dana@example.com." in listing
    assert "Invited" in listing


def test_inviting_an_address_already_in_use_is_refused(admin_client, rep, roles):
    response = admin_client.post("/settings/users/invite/", {"email": "REP@example.com", "role": roles["sales_rep"].pk})

    assert response.status_code == 400
    assert "A user with this email address already exists." in error_text(response)
    assert User.objects.filter(email="rep@example.com").count() == 1


def test_an_administrator_edits_a_user(admin_client, rep, roles):
    team = TeamFactory(name="North")
    form = admin_client.get(f"/settings/users/{rep.pk}/")
    assert form.status_code == 200

    response = admin_client.post(
        f"/settings/users/{rep.pk}/",
        user_form_data(
            rep, first_name="Rhea", role=roles["sales_manager"].pk, teams=[team.pk], time_zone="Europe/Berlin"
        ),
    )

    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.first_name, rep.role, rep.time_zone) == ("Rhea", roles["sales_manager"], "Europe/Berlin")
    assert list(rep.teams.all()) == [team]
    assert rep.version == 2


def test_a_stale_edit_of_a_user_is_refused(admin_client, rep):
    stale = user_form_data(rep, first_name="Mine")
    assert admin_client.post(f"/settings/users/{rep.pk}/", user_form_data(rep, first_name="Theirs")).status_code == 302

    response = admin_client.post(f"/settings/users/{rep.pk}/", stale)

    assert response.status_code == 409
    assert "Reload the current version" in page_text(response)
    rep.refresh_from_db()
    assert rep.first_name == "Theirs"


def test_an_administrator_deactivates_and_reactivates_a_user(admin_client, rep):
    response = admin_client.post(f"/settings/users/{rep.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert "The user was deactivated." in page_text(admin_client.get(response["Location"]))
    assert sign_in(Client(), "rep", PASSWORD).status_code == 400

    admin_client.post(f"/settings/users/{rep.pk}/active/", {"active": "1"})
    rep.refresh_from_db()
    assert rep.is_active
    assert sign_in(Client(), "rep", PASSWORD).status_code == 302


def test_a_deactivated_users_open_session_ends(admin_client, rep, rep_client):
    assert rep_client.get("/").status_code == 200

    admin_client.post(f"/settings/users/{rep.pk}/active/", {"active": "0"})

    response = rep_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_administrator_cannot_deactivate_themselves(admin_client, admin_user):
    response = admin_client.post(f"/settings/users/{admin_user.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert "You cannot deactivate yourself." in page_text(admin_client.get(response["Location"]))


# --- teams -------------------------------------------------------------------------------------------------


def test_an_administrator_creates_edits_and_deletes_a_team(admin_client, admin_user, rep):
    # Create: the manager becomes a member too
    response = admin_client.post(
        "/settings/teams/new/",
        team_form_data(name="North", description="Nordics", manager=admin_user.pk, members=[rep.pk]),
    )
    assert response.status_code == 302
    team = Team.objects.get(name="North")
    assert set(team.members.all()) == {admin_user, rep}
    assert "The team was saved." in page_text(admin_client.get("/settings/teams/"))

    # Edit
    response = admin_client.post(
        f"/settings/teams/{team.pk}/", team_form_data(team, name="North-East", members=[rep.pk])
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "North-East"
    assert team.version == 2

    # Delete
    response = admin_client.post(f"/settings/teams/{team.pk}/delete/")
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()


def test_a_duplicate_team_name_is_refused_next_to_the_field(admin_client):
    TeamFactory(name="North")

    response = admin_client.post("/settings/teams/new/", team_form_data(name="North"))

    assert response.status_code == 400
    assert "Team with this Name already exists." in error_text(response)
    assert Team.objects.count() == 1


def test_a_stale_edit_of_a_team_is_refused_with_a_reload_link(admin_client):
    team = TeamFactory(name="North")
    # Given two administrators opened the same team (version 1)
    stale = team_form_data(team, name="Mine")
    # And the other one saved first
    assert admin_client.post(f"/settings/teams/{team.pk}/", team_form_data(team, name="Theirs")).status_code == 302

    # When the first one saves the old version
    response = admin_client.post(f"/settings/teams/{team.pk}/", stale)

    # Then it is refused (409) with a link to reload, and the other edit is kept
    assert response.status_code == 409
    html = page_text(response)
    assert "Someone else changed this record while you were editing it." in html
    assert re.search(rf'<a href="/settings/teams/{team.pk}/" class="alert-link">Reload the current version</a>', html)
    team.refresh_from_db()
    assert team.name == "Theirs"
    assert team.version == 2


def test_a_script_in_a_team_name_is_shown_as_text(admin_client):
    name = "<script>alert('x')</script>"
    assert (
        admin_client.post("/settings/teams/new/", team_form_data(name=name, description="<b>bold</b>")).status_code
        == 302
    )

    html = admin_client.get("/settings/teams/").content.decode()

    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


# --- roles -------------------------------------------------------------------------------------------------


def test_an_administrator_creates_edits_and_deletes_a_role(admin_client):
    response = admin_client.post(
        "/settings/roles/new/",
        {
            "name": "Auditor",
            "description": "Reads users",
            "data_scope": "all",
            "require_two_factor": "on",
            "perm__accounts__view": "on",
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(name="Auditor")
    assert role.permissions["accounts"] == ["view"]
    assert role.require_two_factor
    assert role.data_scope == "all"
    assert "Auditor" in page_text(admin_client.get("/settings/roles/"))

    response = admin_client.post(
        f"/settings/roles/{role.pk}/",
        {
            "name": "Auditor",
            "data_scope": "team",
            "perm__accounts__view": "on",
            "perm__accounts__edit": "on",
            "version": role.version,
        },
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.permissions["accounts"] == ["edit", "view"]
    assert role.data_scope == "team"
    assert not role.require_two_factor

    response = admin_client.post(f"/settings/roles/{role.pk}/delete/")
    assert response.status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()


def test_a_new_role_takes_effect_for_its_users(admin_client, rep, rep_client):
    role = RoleFactory(name="User admins", permissions={"accounts": ["view"]})
    assert rep_client.get("/settings/users/").status_code == 403

    admin_client.post(f"/settings/users/{rep.pk}/", user_form_data(rep, role=role.pk))

    assert rep_client.get("/settings/users/").status_code == 200
    assert rep_client.get("/settings/users/invite/").status_code == 403


def test_a_built_in_role_cannot_be_deleted(admin_client, roles):
    read_only = roles["read_only"]

    response = admin_client.post(f"/settings/roles/{read_only.pk}/delete/")

    assert response.status_code == 302
    assert Role.objects.filter(pk=read_only.pk).exists()
    assert "Built-in roles cannot be deleted." in page_text(admin_client.get(response["Location"]))
    assert "Delete role" not in page_text(admin_client.get(f"/settings/roles/{read_only.pk}/"))


def test_a_role_that_still_has_users_cannot_be_deleted(admin_client):
    role = RoleFactory(name="Busy")
    UserFactory(role=role)

    response = admin_client.post(f"/settings/roles/{role.pk}/delete/")

    assert Role.objects.filter(pk=role.pk).exists()
    assert "This role still has users." in page_text(admin_client.get(response["Location"]))


def test_the_administrator_role_keeps_the_right_to_manage_users(admin_client, roles):
    admin_role = roles["administrator"]

    response = admin_client.post(
        f"/settings/roles/{admin_role.pk}/",
        {"name": admin_role.name, "data_scope": "all", "perm__accounts__view": "on", "version": admin_role.version},
    )

    assert response.status_code == 400
    assert "The Administrator role must keep the right to manage users." in page_text(response)
    admin_role.refresh_from_db()
    assert "edit" in admin_role.permissions["accounts"]


def test_a_stale_edit_of_a_role_is_refused(admin_client):
    role = RoleFactory(name="Custom")
    stale = {"name": "Mine", "data_scope": "own", "version": role.version}
    admin_client.post(f"/settings/roles/{role.pk}/", {"name": "Theirs", "data_scope": "own", "version": role.version})

    response = admin_client.post(f"/settings/roles/{role.pk}/", stale)

    assert response.status_code == 409
    assert "Reload the current version" in page_text(response)
    role.refresh_from_db()
    assert role.name == "Theirs"


def test_a_built_in_role_is_called_by_its_label_in_the_readers_language_unless_renamed(roles):
    from django.utils import translation

    admin = UserFactory(username="boss", role=roles["administrator"], language="zh-hans")
    client = Client()
    client.force_login(admin)
    header = page_text(client.get("/"))
    assert "管理员" in header and "Administrator" not in header
    with translation.override("zh-hans"):
        assert str(roles["sales_rep"]) == "销售代表"
    with translation.override("en"):
        assert str(roles["sales_rep"]) == "Sales rep"
    roles["sales_rep"].name = "Field sales"
    roles["sales_rep"].save()
    with translation.override("zh-hans"):
        assert str(roles["sales_rep"]) == "Field sales"  # the administrator's own name is kept
