"""The deals API: create with contacts, move, close, stage history, pipelines; bad input and conflicts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.testing import api_client, make_user
from crm.customers.models import Contact
from crm.sales.models import Deal, LossReason

from .factories import make_deal, make_pipeline, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return make_pipeline()


@pytest.fixture
def rep(roles):
    user = make_user(module="sales")
    user.role.permissions["customers"] = ["view"]
    user.role.save()
    return user


def test_create_with_contacts_and_read_back(rep, pipeline):
    contact = Contact.objects.create(first_name="Ada", owner=rep)
    api = api_client(rep)
    response = api.post(
        reverse("sales-api:deal-list"),
        {"name": "Order", "amount": "99.90", "currency": "CNY", "contacts": [{"contact": contact.pk, "role": "Buyer"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["stage"] == stage(pipeline, "Qualification").pk and data["status"] == "open"
    assert data["contacts"] == [{"contact": contact.pk, "role": "Buyer"}]
    assert data["amount"] == "99.90" and data["currency"] == "CNY"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "ZZZ"}, "currency"),
        ({"expected_close_date": "next tuesday"}, "expected_close_date"),
        ({"status": "won"}, "status"),
    ],
)
def test_bad_input(rep, pipeline, payload, field):
    response = api_client(rep).post(reverse("sales-api:deal-list"), {"name": "Order", **payload}, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert not Deal.objects.exists()


def test_move_close_and_stage_history(rep, pipeline):
    deal = make_deal(pipeline=pipeline, owner=rep)
    api = api_client(rep)
    moved = api.post(
        reverse("sales-api:deal-move", args=[deal.pk]),
        {"stage": stage(pipeline, "Proposal").pk, "version": 1},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["probability"] == 50
    stale = api.post(
        reverse("sales-api:deal-move", args=[deal.pk]),
        {"stage": stage(pipeline, "Negotiation").pk, "version": 1},
        format="json",
    )
    assert stale.status_code == 409
    other = make_pipeline("Other", is_default=False)
    wrong = api.post(
        reverse("sales-api:deal-move", args=[deal.pk]),
        {"stage": stage(other, "Proposal").pk, "version": 2},
        format="json",
    )
    assert wrong.status_code == 400
    no_reason = api.post(reverse("sales-api:deal-close", args=[deal.pk]), {"won": False, "version": 2}, format="json")
    assert no_reason.status_code == 400
    reason = LossReason.objects.create(name="Price")
    lost = api.post(
        reverse("sales-api:deal-close", args=[deal.pk]),
        {"won": False, "version": 2, "loss_reason": reason.pk},
        format="json",
    )
    assert lost.status_code == 200 and lost.json()["status"] == "lost" and lost.json()["loss_reason"] == reason.pk
    history = api.get(reverse("sales-api:deal-stage-changes", args=[deal.pk])).json()
    assert [row["to_stage"] for row in history][:2] == [stage(pipeline, "Lost").pk, stage(pipeline, "Proposal").pk]


def test_a_viewer_cannot_move(roles, pipeline):
    viewer = make_user(module="sales", actions=("view",))
    deal = make_deal(pipeline=pipeline, owner=viewer)
    response = api_client(viewer).post(
        reverse("sales-api:deal-move", args=[deal.pk]),
        {"stage": stage(pipeline, "Proposal").pk, "version": 1},
        format="json",
    )
    assert response.status_code == 403


def test_pipelines_list_with_stages(rep, pipeline):
    data = api_client(rep).get(reverse("sales-api:pipeline-list")).json()
    assert data[0]["name"] == "Sales" and [s["name"] for s in data[0]["stages"]][:2] == [
        "Qualification",
        "Needs analysis",
    ]


def test_products_on_a_deal(rep, pipeline):

    from .factories import make_product

    product = make_product(price="250.00")
    deal = make_deal(pipeline=pipeline, owner=rep)
    api = api_client(rep)
    url = reverse("sales-api:deal-products", args=[deal.pk])
    added = api.post(url, {"product": product.pk, "quantity": "2"}, format="json")
    assert added.status_code == 201, added.content
    assert added.json() == [
        {"id": added.json()[0]["id"], "product": product.pk, "quantity": "2.000", "unit_price": "250.00"}
    ]
    assert api.post(url, {"product": product.pk, "quantity": "-1"}, format="json").status_code == 400
    euro = make_deal(pipeline=pipeline, owner=rep, currency="EUR")
    no_price = api.post(reverse("sales-api:deal-products", args=[euro.pk]), {"product": product.pk}, format="json")
    assert no_price.status_code == 400 and "no price in EUR" in str(no_price.json())
    line_id = added.json()[0]["id"]
    assert api.delete(reverse("sales-api:deal-product-remove", args=[deal.pk, line_id])).status_code == 204
    assert api.get(url).json() == []
    assert deal.product_lines.count() == 0
