"""Saved views through the pages: the Views menu of the lists, saving the current view (dialog or
page), applying, renaming, sharing and deleting; someone else's view answers 404."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from crm.accounts.tests.factories import TeamFactory
from crm.core.models import SavedView
from crm.core.saved_views import services
from crm.core.testing import make_user
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db

CONTACTS = "customers.contact"
CREATE = "/saved-views/new/"


@pytest.fixture
def rep(roles):
    return make_user(module="customers", scope="all", username="rep")


@pytest.fixture
def team_a(rep):
    return TeamFactory(name="Team A", members=[rep])


@pytest.fixture
def mate(roles, team_a):
    user = make_user(module="customers", scope="all", username="mate")
    team_a.members.add(user)
    return user


@pytest.fixture
def stranger(roles):
    user = make_user(module="customers", scope="all", username="stranger")
    TeamFactory(name="Team B", members=[user])
    return user


def login(client, user):
    client.force_login(user)
    return client


def save(user, name="Customers in Berlin", **extra):
    return services.saved_view_create(actor=user, list_key=CONTACTS, name=name, **extra)


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_urls():
    assert reverse("core:saved_view_list") == "/saved-views/"
    assert reverse("core:saved_view_create") == CREATE
    assert reverse("core:saved_view_apply", args=[3]) == "/saved-views/3/apply/"
    assert reverse("core:saved_view_edit", args=[3]) == "/saved-views/3/edit/"
    assert reverse("core:saved_view_delete", args=[3]) == "/saved-views/3/delete/"


def test_signing_in_is_required(client, rep):
    view = save(rep)
    for url in (CREATE + "?list=customers.contact", f"/saved-views/{view.pk}/apply/", "/saved-views/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- saving the current view ---------------------------------------------------------------------


def test_the_dialog_offers_the_current_filters_and_the_users_teams(client, rep, team_a, stranger):
    login(client, rep)
    response = client.get(
        CREATE, {"list": CONTACTS, "query": "city=x&lifecycle_stage=lead&after=abc"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'class="modal-header"' in html and 'hx-post="/saved-views/new/"' in html
    assert 'name="query" value="lifecycle_stage=lead"' in html and 'name="list_key" value="customers.contact"' in html
    assert "Team A" in html and "Team B" not in html and "Nobody (only me)" in html
    # Without JavaScript, the same form on a page of its own.
    page = client.get(CREATE, {"list": CONTACTS})
    assert page.status_code == 200 and "<html" in page.content.decode() and "modal-header" not in page.content.decode()


def test_an_unknown_list_or_one_without_permission_is_not_found(client, rep, roles):
    login(client, rep)
    assert client.get(CREATE, {"list": "nothing.here"}).status_code == 404
    assert client.get(CREATE).status_code == 404
    login(client, make_user(module="nothing", actions=()))
    assert client.get(CREATE, {"list": CONTACTS}).status_code == 404


def test_saving_keeps_filters_sort_and_the_chosen_columns(client, rep, team_a):
    login(client, rep)
    client.post(reverse("customers:contact_columns"), {"columns": ["email", "city", "tags"]})
    data = {
        "list_key": CONTACTS,
        "query": "city=&lifecycle_stage=customer&sort=-updated&junk=1",
        "name": "Customers",
        "team": team_a.pk,
    }
    response = client.post(CREATE, data)
    assert response.status_code == 302
    assert response["Location"] == "/contacts/?lifecycle_stage=customer&sort=-updated"
    view = SavedView.objects.get()
    assert (view.owner, view.team, view.query, view.columns) == (
        rep,
        team_a,
        "lifecycle_stage=customer&sort=-updated",
        ["email", "tags", "city"],
    )
    assert "The view “Customers” was saved." in text(client.get(response["Location"]))


def test_saving_from_the_dialog_reloads_the_list(client, rep):
    login(client, rep)
    response = client.post(CREATE, {"list_key": CONTACTS, "query": "q=ada", "name": "Ada"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == "/contacts/?q=ada"
    assert SavedView.objects.get().columns == ["email", "phone", "company", "lifecycle_stage", "owner"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 81}, "name", "at most 80 characters"),
        ({"name": "Taken"}, "name", "You already have a view with this name."),
        ({"name": "Fine", "team": "999999"}, "team", "Select a valid choice."),
        ({"name": "Fine", "query": "q=" + "a" * 2100}, "query", "These filters are too long to be saved."),
    ],
)
def test_bad_input_is_told_next_to_the_field_and_nothing_is_saved(client, rep, stranger, data, field, message):
    save(rep, name="Taken")
    login(client, rep)
    sent = {"list_key": CONTACTS, "query": "", **data}
    page = client.post(CREATE, sent)
    assert page.status_code == 400 and message in text(page)
    dialog = client.post(CREATE, sent, HTTP_HX_REQUEST="true")
    assert dialog.status_code == 200 and "HX-Redirect" not in dialog and message in text(dialog)
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Taken"]


def test_sharing_with_someone_elses_team_is_refused(client, rep, stranger):
    login(client, rep)
    other_team = stranger.teams.get()
    response = client.post(CREATE, {"list_key": CONTACTS, "name": "Sneaky", "team": other_team.pk})
    assert response.status_code == 400 and not SavedView.objects.exists()


def test_a_nul_byte_or_an_unknown_list_is_refused(client, rep):
    login(client, rep)
    assert client.post(CREATE, {"list_key": CONTACTS, "name": "Bad\x00name"}).status_code == 400
    assert client.post(CREATE, {"list_key": "nothing.here", "name": "Fine"}).status_code == 404
    assert client.post(CREATE, {"name": "Fine"}).status_code == 404
    assert not SavedView.objects.exists()


# --- applying ------------------------------------------------------------------------------------


def test_applying_restores_filters_and_columns(client, rep):
    Contact.objects.create(first_name="Ada", owner=rep, lifecycle_stage="customer", city="London")
    Contact.objects.create(first_name="Linus", owner=rep, lifecycle_stage="lead", city="Helsinki")
    login(client, rep)
    client.post(reverse("customers:contact_columns"), {"columns": ["city"]})
    view = save(rep, query="lifecycle_stage=customer", columns=["city"])
    client.post(reverse("customers:contact_columns"), {"columns": ["email"]})  # the person moves on

    response = client.get(f"/saved-views/{view.pk}/apply/")
    assert response.status_code == 302 and response["Location"] == "/contacts/?lifecycle_stage=customer"
    assert client.session["customers.columns.contact"] == ["city"]
    page = client.get(response["Location"])
    body = text(page)
    assert "Ada" in body and "Linus" not in body and "London" in body
    assert [column.key for column in page.context["columns"]] == ["city"]


def test_a_teammate_applies_a_shared_view_a_stranger_gets_404(client, rep, mate, stranger, team_a):
    shared = save(rep, name="Team view", team=team_a, query="q=ada")
    private = save(rep, name="Private", query="q=linus")
    login(client, mate)
    assert client.get(f"/saved-views/{shared.pk}/apply/")["Location"] == "/contacts/?q=ada"
    assert client.get(f"/saved-views/{private.pk}/apply/").status_code == 404
    login(client, stranger)
    assert client.get(f"/saved-views/{shared.pk}/apply/").status_code == 404
    assert client.get("/saved-views/999999/apply/").status_code == 404


# --- managing ------------------------------------------------------------------------------------


def test_the_manage_page_lists_own_and_shared_views(client, rep, mate, stranger, team_a):
    save(rep, name="Mine", team=team_a)
    save(mate, name="From a mate", team=team_a)
    save(stranger, name="Not for you")
    services.saved_view_create(actor=rep, list_key="customers.company", name="Big companies")
    login(client, rep)
    body = text(client.get("/saved-views/"))
    assert "Mine" in body and "From a mate" in body and "Big companies" in body and "Not for you" not in body
    only_contacts = text(client.get("/saved-views/", {"list": CONTACTS}))
    assert "Big companies" not in only_contacts and "Mine" in only_contacts


def test_the_owner_renames_and_shares(client, rep, team_a):
    view = save(rep)
    login(client, rep)
    assert client.get(f"/saved-views/{view.pk}/edit/").status_code == 200
    response = client.post(f"/saved-views/{view.pk}/edit/", {"name": "Renamed", "team": team_a.pk})
    assert response.status_code == 302 and response["Location"] == "/saved-views/?list=customers.contact"
    view.refresh_from_db()
    assert (view.name, view.team) == ("Renamed", team_a)
    response = client.post(f"/saved-views/{view.pk}/edit/", {"name": "", "team": ""})
    assert response.status_code == 400 and "This field is required." in text(response)
    view.refresh_from_db()
    assert (view.name, view.team) == ("Renamed", team_a)
    client.post(f"/saved-views/{view.pk}/edit/", {"name": "Renamed", "team": ""})
    view.refresh_from_db()
    assert view.team is None


def test_nobody_else_edits_or_deletes_a_view_not_even_the_team(client, rep, mate, team_a):
    view = save(rep, team=team_a)
    login(client, mate)
    assert client.get(f"/saved-views/{view.pk}/edit/").status_code == 404
    assert client.post(f"/saved-views/{view.pk}/edit/", {"name": "Hijacked"}).status_code == 404
    assert client.post(f"/saved-views/{view.pk}/delete/").status_code == 404
    view.refresh_from_db()
    assert view.name == "Customers in Berlin"


def test_the_owner_deletes(client, rep):
    view = save(rep)
    login(client, rep)
    assert client.get(f"/saved-views/{view.pk}/delete/").status_code == 405
    response = client.post(f"/saved-views/{view.pk}/delete/", {"next": "/contacts/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/contacts/?q=x"
    assert not SavedView.objects.exists()
    # Somewhere else is not a place to go back to.
    other = save(rep, name="Other")
    response = client.post(f"/saved-views/{other.pk}/delete/", {"next": "https://evil.example/"})
    assert response["Location"] == "/saved-views/?list=customers.contact"


# --- the Views menu of the lists -----------------------------------------------------------------


def test_the_contact_list_shows_the_views_menu(client, rep, mate, team_a):
    own = save(rep, name="Hot leads", query="lifecycle_stage=lead")
    save(mate, name="Team customers", team=team_a, query="lifecycle_stage=customer")
    services.saved_view_create(actor=rep, list_key="customers.company", name="A company view")
    login(client, rep)
    html = client.get("/contacts/").content.decode()
    menu = html.split("data-saved-views", 1)[1].split('id="saved-view-dialog"', 1)[0]
    assert menu.index("Hot leads") < menu.index("Team customers")
    assert f"{mate} · Team A" in menu.split("Team customers", 1)[1][:300]  # whose shared view it is
    assert "A company view" not in menu
    assert f'href="/saved-views/{own.pk}/apply/"' in menu
    assert "Save current view…" in menu and 'data-bs-target="#saved-view-dialog"' in menu
    assert 'class="dropdown-item active"' not in menu
    # The view matching the address is marked, and names the menu.
    html = client.get("/contacts/", {"lifecycle_stage": "lead", "sort": "name", "after": "x"}).content.decode()
    menu = html.split("data-saved-views", 1)[1]
    assert re.search(rf'class="dropdown-item active" href="/saved-views/{own.pk}/apply/"', menu)
    assert 'data-saved-view-label data-default-label="Views">Hot leads<' in menu


def test_the_company_list_shows_its_own_views(client, rep):
    save(rep, name="A contact view")
    services.saved_view_create(actor=rep, list_key="customers.company", name="Big companies")
    login(client, rep)
    menu = client.get("/companies/").content.decode().split("data-saved-views", 1)[1]
    assert "Big companies" in menu and "A contact view" not in menu
    assert "No saved views yet" not in menu


def test_the_menu_costs_one_query(rep, team_a, django_assert_max_num_queries):
    save(rep, name="One", team=team_a)
    save(rep, name="Two")
    request = RequestFactory().get("/contacts/")
    request.user = type(rep).objects.get(pk=rep.pk)
    request.user.team_ids()  # the page's scope check has read them already
    template = Template('{% load saved_views %}{% saved_views "customers.contact" %}')
    with django_assert_max_num_queries(1):
        html = template.render(Context({"request": request}))
    assert "One" in html and "Two" in html and "Team A" in html


def test_the_menu_is_empty_for_an_unknown_list_or_nobody(rep):
    request = RequestFactory().get("/somewhere/")
    request.user = rep
    template = Template("{% load saved_views %}{% saved_views list_key %}")
    assert template.render(Context({"request": request, "list_key": "nothing.here"})).strip() == ""
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert (
        Template('{% load saved_views %}{% saved_views "customers.contact" %}')
        .render(Context({"request": request}))
        .strip()
        == ""
    )


def test_the_menu_reads_in_chinese(client, rep):
    from django.utils import translation

    save(rep, name="客户")
    rep.language = "zh-hans"
    rep.save()
    login(client, rep)
    try:
        html = client.get("/contacts/").content.decode()
    finally:
        translation.activate("en")  # the person's language stays with their requests
    menu = html.split("data-saved-views", 1)[1].split('id="saved-view-dialog"', 1)[0]
    assert 'lang="zh-hans"' in html and "客户" in menu
