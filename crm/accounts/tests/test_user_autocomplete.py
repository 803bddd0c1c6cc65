"""The people picker's endpoint: signed-in users only, active colleagues only, a few at a time, the
best matches first, and bad input refused without an error page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm.accounts.selectors import AUTOCOMPLETE_LIMIT, user_autocomplete
from crm.accounts.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/people/autocomplete/"
PICK = re.compile(r'data-autocomplete-pick data-id="(\d+)" data-name="([^"]*)"')


def picks(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [int(pk) for pk, _name in PICK.findall(response.content.decode())]


@pytest.fixture
def me(db):
    return UserFactory(username="me", first_name="Maria", last_name="Example", email="me@example.com")


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


def test_the_url_is_named():
    assert reverse("accounts:user_autocomplete") == URL


def test_signing_in_is_required(client, me):
    response = client.get(URL, {"q": "ma"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # A picker on a page whose session ended gets no login page inside its suggestions.
    assert client.get(URL, {"q": "ma"}, HTTP_HX_REQUEST="true").status_code == 401


def test_matches_first_name_last_name_username_and_email_in_any_case(signed_in):
    ada = UserFactory(username="alove", first_name="Ada", last_name="Lovelace", email="countess@example.org")
    grace = UserFactory(username="ghopper", first_name="Grace", last_name="Hopper", email="grace@navy.example")
    assert picks(signed_in.get(URL, {"q": "ADA"})) == [ada.pk]
    assert picks(signed_in.get(URL, {"q": "lovel"})) == [ada.pk]
    assert picks(signed_in.get(URL, {"q": "GHOP"})) == [grace.pk]
    assert picks(signed_in.get(URL, {"q": "navy.EXAMPLE"})) == [grace.pk]
    # Every word must be found, in any of the fields.
    assert picks(signed_in.get(URL, {"q": "ada lovelace"})) == [ada.pk]
    assert picks(signed_in.get(URL, {"q": "  Lovelace   ada "})) == [ada.pk]
    assert picks(signed_in.get(URL, {"q": "ada hopper"})) == []


def test_names_in_chinese_are_found(signed_in):
    wang = UserFactory(username="wang", first_name="小明", last_name="王")
    assert picks(signed_in.get(URL, {"q": "小明"})) == [wang.pk]
    assert "小明" in signed_in.get(URL, {"q": "王"}).content.decode()


def test_inactive_users_are_never_suggested(signed_in):
    UserFactory(username="gone", first_name="Gone", last_name="Person", is_active=False)
    still = UserFactory(username="goneril", first_name="Goneril", last_name="Lear")
    assert picks(signed_in.get(URL, {"q": "gone"})) == [still.pk]
    assert picks(signed_in.get(URL, {"q": "gone person"})) == []


def test_names_starting_with_the_text_come_before_names_containing_it(signed_in):
    inside = UserFactory(username="u1", first_name="Rosanna", last_name="Banks", email="r@example.com")
    starts = UserFactory(username="u2", first_name="Anna", last_name="Zorn", email="z@example.com")
    exact = UserFactory(username="anna", first_name="Zoe", last_name="Young", email="zy@example.com")
    assert picks(signed_in.get(URL, {"q": "anna"})) == [exact.pk, starts.pk, inside.pk]


def test_at_most_a_few_suggestions(signed_in):
    for index in range(AUTOCOMPLETE_LIMIT + 10):
        UserFactory(username=f"sales{index:02d}", first_name="Sales", last_name=f"Rep {index:02d}")
    found = picks(signed_in.get(URL, {"q": "sales"}))
    assert len(found) == AUTOCOMPLETE_LIMIT == 20
    assert len(user_autocomplete(user=None, query="sales", limit=500)) == AUTOCOMPLETE_LIMIT


def test_nothing_typed_suggests_oneself_first(signed_in, me):
    UserFactory(username="aaron", first_name="Aaron", last_name="Able")
    found = picks(signed_in.get(URL))
    assert found[0] == me.pk and len(found) == 2
    assert "(you)" in signed_in.get(URL).content.decode()


def test_suggestions_show_email_and_teams_and_escape_names(signed_in):
    person = UserFactory(username="x", first_name="<b>Bold</b>", last_name="Name", email="bold@example.com")
    TeamFactory(name="Sales Europe", members=[person])
    TeamFactory(name="Key accounts", members=[person])
    html = signed_in.get(URL, {"q": "bold"}).content.decode()
    assert "bold@example.com" in html and "Key accounts, Sales Europe" in html
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_nobody_matches_says_so(signed_in):
    html = signed_in.get(URL, {"q": "zzzz-nobody"}).content.decode()
    assert "Nobody matches." in html and "data-autocomplete-pick" not in html


def test_a_few_queries_whatever_the_number_of_users(signed_in, django_assert_max_num_queries):
    for index in range(60):
        UserFactory(username=f"bulk{index}", first_name="Bulk", last_name=str(index))
    signed_in.get(URL, {"q": "bulk"})
    # The session and its user, the matching users, their teams.
    with django_assert_max_num_queries(4):
        assert len(picks(signed_in.get(URL, {"q": "bulk"}))) == AUTOCOMPLETE_LIMIT


@pytest.mark.parametrize(
    "query",
    [
        "x" * (10 * 1024 * 1024),  # 10 MB
        "a" * 101,
        "%",
        "_",
        "' OR 1=1 --",
        "\\",
        "\u202e",
        "😀",
    ],
)
def test_bad_input_is_refused_or_finds_nothing_never_an_error(signed_in, query):
    UserFactory(username="someone", first_name="Some", last_name="One")
    response = signed_in.get(URL, {"q": query})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert picks(response) == []


def test_a_nul_byte_is_refused(signed_in):
    assert signed_in.get(URL, {"q": "ad\x00a"}).status_code == 400
    assert signed_in.get(URL + "?q=ad%00a").status_code == 400


def test_repeated_parameters_use_the_last_one(signed_in):
    ada = UserFactory(username="ada", first_name="Ada", last_name="L")
    assert picks(signed_in.get(URL + "?q=zzz&q=ada")) == [ada.pk]
