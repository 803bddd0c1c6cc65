"""Deal pages: list, detail, form, close, board (drag and drop), win/loss report, dashboard, the
customer 360 panel, and the pipelines settings — in English and Chinese."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.testing import make_user
from crm.customers.models import Company, Contact
from crm.sales.choices import DealStatus
from crm.sales.models import Deal, DealStageChange, ExchangeRate, LossReason, Pipeline

from .factories import make_deal, make_pipeline, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return make_pipeline()


@pytest.fixture
def rep(roles):
    user = make_user(module="sales")
    user.role.permissions["customers"] = ["view", "create", "edit"]
    user.role.save()
    return user


@pytest.fixture
def signed_in(client, rep):
    client.force_login(rep)
    return client


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_renders(signed_in, rep, pipeline, language, admin_user, client):
    deal = make_deal(pipeline=pipeline, owner=rep, name="Order 1")
    signed_in.cookies["django_language"] = language
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    for url in (
        reverse("sales:deal_list"),
        reverse("sales:deal_create"),
        deal.get_absolute_url(),
        reverse("sales:deal_edit", args=[deal.pk]),
        reverse("sales:deal_close", args=[deal.pk]),
        reverse("sales:deal_delete", args=[deal.pk]),
        reverse("sales:board", args=[pipeline.pk]),
        reverse("sales:board_column", args=[pipeline.pk, deal.stage_id]),
        reverse("sales:win_loss"),
        reverse("sales:dashboard"),
    ):
        response = signed_in.get(url, **headers)
        assert response.status_code == 200, url
    client.force_login(admin_user)
    for url in (
        reverse("sales:pipeline_list"),
        reverse("sales:pipeline_create"),
        reverse("sales:pipeline_edit", args=[pipeline.pk]),
    ):
        assert client.get(url, **headers).status_code == 200, url


def test_chinese_pages_are_translated(signed_in, pipeline):
    response = signed_in.get(reverse("sales:deal_list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "新建商机" in response.content.decode() or "商机" in response.content.decode()


def test_empty_states(signed_in, pipeline):
    assert "No deals yet" in signed_in.get(reverse("sales:deal_list")).content.decode()
    Pipeline.objects.all().delete()
    response = signed_in.get(reverse("sales:board_default"))
    assert response.status_code == 200 and "No pipeline yet" in response.content.decode()


def test_create_through_the_form_with_contacts(signed_in, rep, pipeline):
    company = Company.objects.create(name="Acme", owner=rep)
    contact = Contact.objects.create(first_name="Ada", last_name="L", owner=rep, company=company)
    response = signed_in.post(
        reverse("sales:deal_create"),
        {
            "name": "Acme order",
            "pipeline": pipeline.pk,
            "stage": stage(pipeline, "Proposal").pk,
            "amount": "1234.50",
            "currency": "EUR",
            "company": company.pk,
            "contacts": [contact.pk],
            "expected_close_date": "2027-01-31",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    deal = Deal.objects.get(name="Acme order")
    assert deal.amount == Decimal("1234.50") and deal.currency == "EUR" and deal.probability == 50
    assert list(deal.contacts.all()) == [contact]


def test_bad_form_input_is_shown_and_writes_nothing(signed_in, pipeline):
    other = make_pipeline("Other", is_default=False)
    response = signed_in.post(
        reverse("sales:deal_create"),
        {"name": "X", "pipeline": pipeline.pk, "stage": stage(other, "Proposal").pk, "amount": "-3", "currency": "USD"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "another pipeline" in body
    assert not Deal.objects.exists()


def test_board_shows_totals_over_all_deals_and_the_first_cards(signed_in, rep, pipeline):
    qualification = stage(pipeline, "Qualification")
    for n in range(30):
        make_deal(pipeline=pipeline, owner=rep, name=f"D{n}", amount=Decimal("100"), rank=n)
    make_deal(pipeline=pipeline, owner=rep, name="Euro", amount=Decimal("100"), currency="EUR", rank=99)
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10"), valid_from=dt.date(2020, 1, 1))
    response = signed_in.get(reverse("sales:board", args=[pipeline.pk]))
    columns = {c.stage.pk: c for c in response.context["columns"]}
    column = columns[qualification.pk]
    assert column.count == 31 and len(column.cards) == 20 and column.has_more
    assert column.total == Decimal("3110.00")
    assert column.weighted == Decimal("311.00")
    more = signed_in.get(reverse("sales:board_column", args=[pipeline.pk, qualification.pk]) + "?offset=20")
    assert more.content.decode().count("data-deal=") == 11


def test_board_filters_by_owner(signed_in, rep, pipeline, roles):
    other = make_user(module="sales")
    make_deal(pipeline=pipeline, owner=rep, name="Mine")
    make_deal(pipeline=pipeline, owner=other, name="Theirs")
    response = signed_in.get(reverse("sales:board", args=[pipeline.pk]) + f"?owner={rep.pk}")
    names = [card.name for column in response.context["columns"] for card in column.cards]
    assert names == ["Mine"]


def test_stale_deals_are_marked(signed_in, rep, pipeline):
    old = timezone.now() - dt.timedelta(days=60)
    make_deal(pipeline=pipeline, owner=rep, name="Old", last_activity_at=old)
    make_deal(pipeline=pipeline, owner=rep, name="Fresh", last_activity_at=timezone.now())
    body = signed_in.get(reverse("sales:board", args=[pipeline.pk])).content.decode()
    assert body.count("crm-deal-card is-stale") == 1


def test_drag_and_drop_moves_and_answers_the_new_totals(signed_in, rep, pipeline):
    deal = make_deal(pipeline=pipeline, owner=rep, amount=Decimal("200"))
    proposal = stage(pipeline, "Proposal")
    response = signed_in.post(
        reverse("sales:deal_move", args=[deal.pk]), {"stage": proposal.pk, "version": deal.version}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == deal.version + 1
    assert data["columns"][str(proposal.pk)]["count"] == 1
    deal.refresh_from_db()
    assert deal.stage == proposal
    assert DealStageChange.objects.filter(deal=deal, to_stage=proposal, changed_by=rep).exists()


def test_the_second_of_two_drags_gets_a_conflict_and_the_current_state(signed_in, rep, pipeline):
    deal = make_deal(pipeline=pipeline, owner=rep)
    url = reverse("sales:deal_move", args=[deal.pk])
    assert signed_in.post(url, {"stage": stage(pipeline, "Proposal").pk, "version": deal.version}).status_code == 200
    response = signed_in.post(url, {"stage": stage(pipeline, "Negotiation").pk, "version": deal.version})
    assert response.status_code == 409
    assert response.json()["current"]["stage_id"] == stage(pipeline, "Proposal").pk
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, "Proposal")


def test_a_drop_on_another_pipeline_or_on_lost_changes_nothing(signed_in, rep, pipeline):
    other = make_pipeline("Other", is_default=False)
    deal = make_deal(pipeline=pipeline, owner=rep)
    url = reverse("sales:deal_move", args=[deal.pk])
    assert signed_in.post(url, {"stage": stage(other, "Proposal").pk, "version": deal.version}).status_code == 400
    response = signed_in.post(url, {"stage": stage(pipeline, "Lost").pk, "version": deal.version})
    assert response.status_code == 202 and "outcome=lost" in response.json()["redirect"]
    assert signed_in.post(url, {"stage": "nope", "version": deal.version}).status_code == 400
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, "Qualification") and deal.version == 1


def test_close_as_lost_needs_a_reason(signed_in, rep, pipeline):
    deal = make_deal(pipeline=pipeline, owner=rep)
    url = reverse("sales:deal_close", args=[deal.pk])
    response = signed_in.post(url, {"outcome": "lost", "version": deal.version})
    assert response.status_code == 400
    reason = LossReason.objects.create(name="Price")
    response = signed_in.post(url, {"outcome": "lost", "loss_reason": reason.pk, "version": deal.version})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == DealStatus.LOST and deal.loss_reason == reason


def test_win_loss_report_groups_by_reason_and_owner(signed_in, rep, pipeline):
    price = LossReason.objects.create(name="Price")
    today = timezone.localdate()
    won, lost = stage(pipeline, "Won"), stage(pipeline, "Lost")
    for _n in range(3):
        make_deal(pipeline=pipeline, owner=rep, stage=won, status="won", closed_on=today, amount=Decimal("100"))
    make_deal(pipeline=pipeline, owner=rep, stage=lost, status="lost", closed_on=today, loss_reason=price)
    response = signed_in.get(reverse("sales:win_loss") + "?group=reason")
    report = response.context["report"]
    assert report.total.won == 3 and report.total.lost == 1 and report.total.win_rate == 75.0
    assert {row.label: row.lost for row in report.rows}["Price"] == 1
    response = signed_in.get(reverse("sales:win_loss") + "?group=owner")
    assert [row.won for row in response.context["report"].rows] == [3]
    bad = signed_in.get(reverse("sales:win_loss") + "?date_from=2027-01-01&date_to=2026-01-01")
    assert bad.status_code == 400


def test_dashboard_figures(signed_in, rep, pipeline):
    today = timezone.localdate()
    won = stage(pipeline, "Won")
    make_deal(pipeline=pipeline, owner=rep, stage=won, status="won", closed_on=today, amount=Decimal("500"))
    make_deal(pipeline=pipeline, owner=rep, amount=Decimal("1000"), expected_close_date=today)
    response = signed_in.get(reverse("sales:dashboard"))
    assert response.context["won_month"] == Decimal("500.00")
    assert response.context["win_rate"] == 100.0
    assert response.context["closing_count"] == 1


def test_customer_360_shows_deals_and_lifetime_revenue(signed_in, rep, pipeline):
    company = Company.objects.create(name="Acme", owner=rep)
    won = stage(pipeline, "Won")
    make_deal(pipeline=pipeline, owner=rep, company=company, stage=won, status="won", amount=Decimal("700"))
    make_deal(pipeline=pipeline, owner=rep, company=company, amount=Decimal("300"), name="Open one")
    response = signed_in.get(company.get_absolute_url())
    body = response.content.decode()
    assert 'data-testid="customer-deals"' in body and "Open one" in body
    summary = response.context["panels"]["summary"][0]
    assert 'data-testid="fact-lifetime-revenue"' in summary and "$700.00" in summary and "$300.00" in summary


def test_deals_outside_my_scope_stay_hidden_everywhere(client, roles, pipeline):
    me = make_user(module="sales", scope="own")
    other = make_user(module="sales", scope="own")
    theirs = make_deal(pipeline=pipeline, owner=other, name="Secret deal", amount=Decimal("999"))
    client.force_login(me)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    board = client.get(reverse("sales:board", args=[pipeline.pk]))
    assert "Secret deal" not in board.content.decode()
    assert all(column.count == 0 for column in board.context["columns"])
    move = client.post(
        reverse("sales:deal_move", args=[theirs.pk]), {"stage": stage(pipeline, "Proposal").pk, "version": 1}
    )
    assert move.status_code == 404
    search = client.get(reverse("core:search") + "?q=Secret")
    assert "Secret deal" not in search.content.decode()
    assert client.get(reverse("sales:win_loss")).context["report"].total.closed == 0


def test_pipeline_settings_need_an_administrator(signed_in, admin_user, client):
    assert signed_in.get(reverse("sales:pipeline_list")).status_code == 403
    client.force_login(admin_user)
    data = {
        "name": "Partners",
        "is_active": "on",
        "stages-TOTAL_FORMS": "3",
        "stages-INITIAL_FORMS": "0",
        "stages-0-name": "Talk",
        "stages-0-probability": "20",
        "stages-0-kind": "open",
        "stages-1-name": "Signed",
        "stages-1-probability": "100",
        "stages-1-kind": "won",
        "stages-2-name": "Gone",
        "stages-2-probability": "0",
        "stages-2-kind": "lost",
    }
    assert client.post(reverse("sales:pipeline_create"), data).status_code == 302
    pipeline = Pipeline.objects.get(name="Partners")
    assert list(pipeline.stages.values_list("name", flat=True)) == ["Talk", "Signed", "Gone"]
    bad = {**data, "name": "Broken", "stages-1-kind": "open", "stages-2-kind": "open"}
    assert client.post(reverse("sales:pipeline_create"), bad).status_code == 400
    assert not Pipeline.objects.filter(name="Broken").exists()


def test_query_counts_are_pinned(signed_in, rep, pipeline, django_assert_max_num_queries):
    company = Company.objects.create(name="Acme", owner=rep)
    for n in range(40):
        make_deal(
            pipeline=pipeline, owner=rep, company=company, name=f"D{n}", stage=pipeline.stages.order_by("order")[n % 4]
        )
    deal = Deal.objects.first()
    with django_assert_max_num_queries(20):
        signed_in.get(reverse("sales:board", args=[pipeline.pk]))
    with django_assert_max_num_queries(16):
        signed_in.get(reverse("sales:deal_list"))
    with django_assert_max_num_queries(30):
        signed_in.get(deal.get_absolute_url())


def test_products_on_the_deal_page(signed_in, rep, pipeline):
    from .factories import make_product

    product = make_product(price="99.50")
    deal = make_deal(pipeline=pipeline, owner=rep)
    url = reverse("sales:deal_products", args=[deal.pk])
    assert signed_in.post(url, {"product": product.pk, "quantity": "3"}).status_code == 302
    body = signed_in.get(deal.get_absolute_url()).content.decode()
    assert "$298.50" in body
    signed_in.post(url, {"product": product.pk, "quantity": "zero"})
    assert deal.product_lines.count() == 1
    signed_in.post(url, {"remove": deal.product_lines.get().pk})
    assert deal.product_lines.count() == 0
