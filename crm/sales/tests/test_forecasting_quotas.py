"""Quotas: the grid page (saved a row at a time), the services behind it and the API. Bad input gets a
clear error next to its cell and writes nothing; a stale edit is a conflict; only managers set quotas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.accounts.tests.factories import TeamFactory, make_token
from crm.core.exceptions import ConflictError
from crm.core.testing import api_client, journal_entries, make_user
from crm.sales.forecasting import services
from crm.sales.forecasting.series import add_months, month_key
from crm.sales.models import Quota

pytestmark = pytest.mark.django_db

GRID = reverse("sales:quota_list")
API = reverse("sales-api:quota-list")


@pytest.fixture
def crew():
    """A manager (data scope team) with two reps in their team, and a rep of another team."""
    manager = make_user(module="sales", scope="team", username="manager")
    reps = [
        make_user(module="sales", actions=("view", "create", "edit"), scope="own", username=f"rep{i}") for i in range(2)
    ]
    team = TeamFactory(name="East", members=[manager, *reps])
    outsider = make_user(module="sales", actions=("view", "create", "edit"), scope="own", username="outsider")
    other_team = TeamFactory(name="West", members=[outsider])
    return type(
        "Crew", (), {"manager": manager, "reps": reps, "team": team, "outsider": outsider, "other_team": other_team}
    )


def this_month() -> date:
    return timezone.localdate().replace(day=1)


def row_data(start: date, amounts: dict[int, str], versions: dict[int, str] | None = None) -> dict[str, str]:
    data = {"start": month_key(start)}
    for step in range(12):
        key = month_key(add_months(start, step))
        data[f"amount-{key}"] = amounts.get(step, "")
        data[f"version-{key}"] = (versions or {}).get(step, "")
    return data


# --- services ------------------------------------------------------------------------------------------------


def test_a_manager_sets_changes_and_removes_a_quota_and_each_change_is_journaled(crew):
    rep, month = crew.reps[0], this_month()
    quota = services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="12500.50")
    assert quota.amount == Decimal("12500.50") and quota.version == 1
    changed = services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="13000", version=1)
    assert changed.amount == Decimal("13000") and changed.version == 2
    assert services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="", version=2) is None
    assert not Quota.objects.exists()
    assert [entry.action for entry in journal_entries(quota)] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "The amount cannot be negative."),
        ("lots", "Enter an amount, e.g. 1250.00."),
        ("12.345", "Use at most two decimals."),
        ("1e20", "The amount is too large."),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message_and_nothing_is_written(crew, amount, message):
    with pytest.raises(ValidationError) as caught:
        services.quota_set(actor=crew.manager, user_id=crew.reps[0].pk, month=this_month(), amount=amount)
    assert caught.value.message_dict == {"amount": [message]}
    assert not Quota.objects.exists()


def test_a_quota_is_for_a_whole_month(crew):
    with pytest.raises(ValidationError) as caught:
        services.quota_set(actor=crew.manager, user_id=crew.reps[0].pk, month="2026-05-17", amount="1")
    assert "month" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.quota_set(actor=crew.manager, user_id=crew.reps[0].pk, month="May", amount="1")


def test_a_stale_edit_is_a_conflict(crew):
    rep, month = crew.reps[0], this_month()
    services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="100")
    services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="200", version=1)
    with pytest.raises(ConflictError):
        services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="300", version=1)
    with pytest.raises(ConflictError):  # saw none, but there is one now
        services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="300")
    # The same amount again is no change, whatever version was seen.
    assert services.quota_set(actor=crew.manager, user_id=rep.pk, month=month, amount="200", version=1).version == 2
    assert Quota.objects.get().amount == Decimal("200")


def test_only_managers_set_quotas_and_only_for_their_people(crew):
    rep, month = crew.reps[0], this_month()
    with pytest.raises(ValidationError):  # a rep (data scope own) sets nobody's quota, not even their own
        services.quota_set(actor=rep, user_id=rep.pk, month=month, amount="100")
    with pytest.raises(ValidationError):
        services.quota_set(actor=crew.manager, user_id=crew.outsider.pk, month=month, amount="100")
    with pytest.raises(ValidationError):
        services.quota_set(actor=crew.manager, team_id=crew.other_team.pk, month=month, amount="100")
    viewer = make_user(module="sales", actions=("view",), scope="all")
    with pytest.raises(PermissionDenied):
        services.quota_set(actor=viewer, user_id=rep.pk, month=month, amount="100")
    assert services.quota_set(actor=crew.manager, team_id=crew.team.pk, month=month, amount="100").team == crew.team
    assert services.can_set_quotas(crew.manager) and not services.can_set_quotas(rep)


def test_a_row_with_one_bad_cell_writes_nothing(crew):
    start = this_month()
    cells = [(add_months(start, step), "1000" if step != 3 else "-1", "") for step in range(12)]
    with pytest.raises(ValidationError) as caught:
        services.quota_row_save(actor=crew.manager, user_id=crew.reps[0].pk, cells=cells)
    assert list(caught.value.message_dict) == [month_key(add_months(start, 3))]
    assert not Quota.objects.exists()


# --- the grid page -------------------------------------------------------------------------------------------


def test_the_grid_lists_the_managers_people_and_teams(client, crew):
    client.force_login(crew.manager)
    response = client.get(GRID)
    html = response.content.decode()
    assert response.status_code == 200
    for rep in crew.reps:
        assert str(rep) in html and reverse("sales:quota_row_person", args=[rep.pk]) in html
    assert str(crew.outsider) not in html
    teams = client.get(GRID, {"tab": "teams"}).content.decode()
    assert "East" in teams and "West" not in teams


def test_a_rep_sees_their_own_quotas_read_only(client, crew):
    rep = crew.reps[0]
    Quota.objects.create(user=rep, month=this_month(), amount=Decimal("5000"))
    client.force_login(rep)
    html = client.get(GRID).content.decode()
    assert "$5,000.00" in html and 'name="amount-' not in html
    assert str(crew.reps[1]) not in html
    assert "Quotas are set by sales managers." in html
    response = client.post(reverse("sales:quota_row_person", args=[rep.pk]), row_data(this_month(), {0: "1"}))
    assert response.status_code == 400
    assert "You cannot set quotas for this person." in response.content.decode()
    assert Quota.objects.get().amount == Decimal("5000")


def test_saving_a_row_with_htmx(client, crew):
    rep, start = crew.reps[0], this_month()
    client.force_login(crew.manager)
    url = reverse("sales:quota_row_person", args=[rep.pk])
    response = client.post(url, row_data(start, {0: "10000", 1: "1,500.50"}), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="quota-people-{rep.pk}"' in html and "Saved." in html
    assert {quota.month: quota.amount for quota in Quota.objects.all()} == {
        start: Decimal("10000"),
        add_months(start, 1): Decimal("1500.50"),
    }
    assert 'value="10000"' in html and 'value="1500.50"' in html and 'name="version-' in html


def test_a_bad_cell_is_marked_next_to_it_and_nothing_is_saved(client, crew):
    rep, start = crew.reps[0], this_month()
    client.force_login(crew.manager)
    url = reverse("sales:quota_row_person", args=[rep.pk])
    response = client.post(url, row_data(start, {0: "10000", 2: "abc", 3: "-50"}), HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter an amount, e.g. 1250.00." in html and "The amount cannot be negative." in html
    assert html.count("is-invalid") == 2
    assert 'value="abc"' in html and 'value="10000"' in html  # what was typed stays
    assert not Quota.objects.exists()
    # Without JavaScript: the whole grid again, with the errors in the row.
    response = client.post(url, row_data(start, {2: "abc"}))
    assert response.status_code == 400 and "Enter an amount, e.g. 1250.00." in response.content.decode()


def test_a_row_edited_meanwhile_shows_the_current_amounts(client, crew):
    rep, start = crew.reps[0], this_month()
    Quota.objects.create(user=rep, month=start, amount=Decimal("700"), version=3)
    client.force_login(crew.manager)
    url = reverse("sales:quota_row_person", args=[rep.pk])
    response = client.post(url, row_data(start, {0: "900"}, {0: "2"}), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "Someone changed these quotas meanwhile" in response.content.decode()
    assert 'value="700"' in response.content.decode()
    assert Quota.objects.get().amount == Decimal("700")


def test_saving_a_row_without_javascript_redirects_back(client, crew):
    start = add_months(this_month(), 12)
    client.force_login(crew.manager)
    url = reverse("sales:quota_row_team", args=[crew.team.pk]) + f"?tab=teams&start={month_key(start)}"
    response = client.post(url, row_data(start, {5: "42000"}))
    assert response.status_code == 302 and "tab=teams" in response["Location"]
    assert Quota.objects.get().team == crew.team


def test_rows_outside_the_managers_reach_are_not_found(client, crew):
    client.force_login(crew.manager)
    response = client.post(reverse("sales:quota_row_person", args=[crew.outsider.pk]), row_data(this_month(), {0: "1"}))
    assert response.status_code == 404
    assert client.post(reverse("sales:quota_row_team", args=[crew.other_team.pk]), {}).status_code == 404
    assert not Quota.objects.exists()


def test_the_grid_pages_and_moves_by_a_year(client, crew):
    client.force_login(crew.manager)
    start = add_months(this_month(), -12)
    response = client.get(GRID, {"start": month_key(start)})
    assert response.context["months"][0] == start
    assert month_key(this_month()) in response.content.decode()  # the link to the next 12 months
    assert client.get(GRID, {"start": "rubbish"}).context["months"][0] == this_month()


def test_the_grid_renders_in_chinese_and_when_empty(client, roles):
    boss = make_user(module="sales", scope="all")
    boss.language = "zh-hans"
    boss.save()
    client.force_login(boss)
    response = client.get(GRID, {"tab": "teams"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and '<html lang="zh-hans">' in response.content.decode()
    assert "ti-target" in response.content.decode()  # the empty state


# --- API -----------------------------------------------------------------------------------------------------


def test_api_create_list_update_delete(crew):
    client = api_client(crew.manager)
    month = this_month().isoformat()
    response = client.post(API, {"user": crew.reps[0].pk, "month": month, "amount": "9000.00"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "9000.00" and body["version"] == 1
    detail = reverse("sales-api:quota-detail", args=[body["id"]])
    assert client.get(API).json()["results"][0]["id"] == body["id"]
    response = client.patch(detail, {"amount": "9500", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["amount"] == "9500.00"
    assert client.patch(detail, {"amount": "9600", "version": 1}, format="json").status_code == 409
    assert client.patch(detail, {"month": "2030-01-01", "version": 2}, format="json").status_code == 400
    assert client.delete(detail).status_code == 204
    assert not Quota.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "many"}, "amount"),
        ({"month": "2026-05-15"}, "month"),
        ({"team": "__team__"}, "user"),  # a person and a team at once
        ({"user": "__outsider__"}, "user"),
    ],
)
def test_api_refuses_bad_input_with_field_errors(crew, data, field):
    payload = {"user": crew.reps[0].pk, "month": this_month().isoformat(), "amount": "100", **data}
    payload = {
        key: {"__team__": crew.team.pk, "__outsider__": crew.outsider.pk}.get(value, value)
        for key, value in payload.items()
    }
    response = api_client(crew.manager).post(API, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Quota.objects.exists()


def test_api_refuses_a_second_quota_for_the_same_month(crew):
    Quota.objects.create(user=crew.reps[0], month=this_month(), amount=Decimal("1"))
    response = api_client(crew.manager).post(
        API, {"user": crew.reps[0].pk, "month": this_month().isoformat(), "amount": "2"}, format="json"
    )
    assert response.status_code == 400 and "month" in response.json()["errors"]


def test_api_lists_only_what_the_caller_may_see(crew):
    mine = Quota.objects.create(user=crew.reps[0], month=this_month(), amount=Decimal("1"))
    other = Quota.objects.create(user=crew.outsider, month=this_month(), amount=Decimal("2"))
    ids = [row["id"] for row in api_client(crew.reps[0]).get(API).json()["results"]]
    assert ids == [mine.pk]
    assert api_client(crew.reps[0]).get(reverse("sales-api:quota-detail", args=[other.pk])).status_code == 404
    manager_ids = {row["id"] for row in api_client(crew.manager).get(API).json()["results"]}
    assert manager_ids == {mine.pk}


def test_api_read_only_token_cannot_write(crew):
    from rest_framework.test import APIClient

    _token, secret = make_token(crew.manager, read_only=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(API).status_code == 200
    response = client.post(
        API, {"user": crew.reps[0].pk, "month": this_month().isoformat(), "amount": "1"}, format="json"
    )
    assert response.status_code == 403
