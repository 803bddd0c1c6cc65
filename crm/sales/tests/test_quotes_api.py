"""``/api/v1/quotes/``: nested lines on create and update, totals the CRM computes, field errors per
line, accept and decline, and the scope (a quote of a deal I cannot see does not exist for me)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from crm.core.testing import ScopedModelContract, api_client
from crm.sales.choices import DealStatus, QuoteStatus
from crm.sales.models import Deal, Quote, QuoteLine
from crm.sales.quotes import numbering, services
from crm.sales.tests.factories import make_deal
from crm.sales.tests.test_quotes_helpers import deal_with_contact, product, quote, seller

pytestmark = pytest.mark.django_db

LIST = reverse("sales-api:quote-list")


def detail(quote: Quote) -> str:
    return reverse("sales-api:quote-detail", args=[quote.pk])


@pytest.fixture
def me(roles):
    return seller(scope="own")


@pytest.fixture
def api(me):
    return api_client(me)


@pytest.fixture
def deal(me):
    return deal_with_contact(me)[0]


def test_create_with_lines_computes_the_totals(api, deal):
    licence = product("LIC-1", price="480", tax="20")
    response = api.post(
        LIST,
        {
            "deal": deal.pk,
            "title": "Rollout",
            "lines": [
                {"product": licence.pk, "quantity": "2", "discount_percent": "10"},
                {"description": "Workshop", "unit_price": 1200, "tax_rate": 0},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("Q-") and body["status"] == "draft" and body["currency"] == "USD"
    assert body["contact"] == deal.contacts.get().pk
    assert [(line["description"], line["line_total"]) for line in body["lines"]] == [
        ("Licence", "864.00"),
        ("Workshop", "1200.00"),
    ]
    assert (body["subtotal"], body["discount_total"], body["tax_total"], body["total"]) == (
        "2160.00",
        "96.00",
        "172.80",
        "2236.80",
    )
    assert body["pdf_url"] == reverse("sales-api:quote-pdf", args=[body["id"]])


def test_totals_number_and_status_are_read_only(api, deal):
    response = api.post(
        LIST,
        {"deal": deal.pk, "total": "1.00", "number": "Q-1", "status": "accepted", "lines": []},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"total", "number", "status"}
    assert not Quote.objects.exists()


def test_bad_lines_are_reported_per_line_and_nothing_is_written(api, deal):
    response = api.post(
        LIST,
        {
            "deal": deal.pk,
            "lines": [
                {"description": "Fine", "unit_price": "10"},
                {"description": "Generous", "unit_price": "10", "discount_percent": "101"},
                {"description": "Negative", "unit_price": "-10"},
                {"description": "Nonsense", "unit_price": "10", "quantity": "many"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    # A value that is no number at all is refused by its type, before the service sees the lines.
    assert response.json()["errors"] == {"lines": {"3": {"quantity": ["A valid number is required."]}}}
    response = api.post(
        LIST,
        {
            "deal": deal.pk,
            "lines": [
                {"description": "Fine", "unit_price": "10"},
                {"description": "Generous", "unit_price": "10", "discount_percent": "101"},
                {"description": "Negative", "unit_price": "-10"},
            ],
        },
        format="json",
    )
    assert response.json()["errors"] == {
        "lines.1.discount_percent": ["A discount cannot be more than 100%."],
        "lines.2.unit_price": ["A price cannot be negative."],
    }
    assert not Quote.objects.exists() and not QuoteLine.objects.exists()


def test_unknown_currency_and_hidden_records(api, deal, roles):
    response = api.post(LIST, {"deal": deal.pk, "currency": "ABC"}, format="json")
    assert "not a known currency code" in response.json()["errors"]["currency"][0]
    other = seller(scope="own")
    hidden_deal, hidden_contact = deal_with_contact(other, email="x@example.com", name="Hidden Person")
    response = api.post(LIST, {"deal": hidden_deal.pk}, format="json")
    missing = api.post(LIST, {"deal": 999999}, format="json")
    assert response.status_code == missing.status_code == 400
    assert response.json()["errors"]["deal"][0].replace(str(hidden_deal.pk), "N") == missing.json()["errors"]["deal"][
        0
    ].replace("999999", "N")
    response = api.post(LIST, {"deal": deal.pk, "contact": hidden_contact.pk}, format="json")
    assert "object does not exist" in response.json()["errors"]["contact"][0]
    assert not Quote.objects.exists()


def test_update_replaces_the_lines_and_needs_the_version(api, me, deal):
    created = quote(
        me, deal, lines=[{"description": "A", "unit_price": "10"}, {"description": "B", "unit_price": "20"}]
    )
    first = created.lines.order_by("position").first()
    response = api.patch(
        detail(created),
        {
            "version": 1,
            "lines": [
                {"id": first.pk, "description": "A", "unit_price": "10", "quantity": 3},
                {"description": "C", "unit_price": "1"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [line["description"] for line in body["lines"]] == ["A", "C"] and body["total"] == "31.00"
    assert body["lines"][0]["id"] == first.pk and body["version"] == 2
    assert api.patch(detail(created), {"title": "x"}, format="json").status_code == 400  # no version
    stale = api.patch(detail(created), {"title": "x", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"


def test_accept_wins_the_deal_and_decline_does_not(api, me, deal):
    first, second = quote(me, deal), quote(me, deal)
    response = api.post(reverse("sales-api:quote-decline", args=[second.pk]), {"version": 1}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.OPEN
    response = api.post(reverse("sales-api:quote-accept", args=[first.pk]), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.WON
    again = api.post(reverse("sales-api:quote-accept", args=[second.pk]), {}, format="json")
    assert again.status_code == 400
    edit = api.patch(detail(first), {"title": "late", "version": 2}, format="json")
    assert edit.status_code == 400 and "The deal is closed" in str(edit.json()["errors"])


def test_a_quote_outside_my_scope_does_not_exist_for_me(api, roles):
    other = seller(scope="own")
    theirs = quote(other, deal_with_contact(other)[0])
    assert api.get(LIST).json()["results"] == []
    assert api.get(detail(theirs)).status_code == 404
    assert api.patch(detail(theirs), {"title": "x", "version": 1}, format="json").status_code == 404
    for name in ("accept", "decline", "send"):
        assert api.post(reverse(f"sales-api:quote-{name}", args=[theirs.pk]), {}, format="json").status_code == 404
    assert api.delete(detail(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == QuoteStatus.DRAFT


def test_filters(api, me, deal):
    other_deal = deal_with_contact(me)[0]
    mine, elsewhere = quote(me, deal), quote(me, other_deal)
    services.quote_decline(actor=me, quote=elsewhere)
    assert [row["id"] for row in api.get(LIST, {"deal": deal.pk}).json()["results"]] == [mine.pk]
    assert [row["id"] for row in api.get(LIST, {"status": "declined"}).json()["results"]] == [elsewhere.pk]


def test_read_only_token_and_reader_cannot_act(roles, me, deal):
    from rest_framework.test import APIClient

    from crm.accounts.tests.factories import make_token

    created = quote(me, deal)
    _token, secret = make_token(me, read_only=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(reverse("sales-api:quote-pdf", args=[created.pk])).status_code == 200
    assert client.post(reverse("sales-api:quote-accept", args=[created.pk])).status_code == 403
    reader = seller(actions=("view",))
    assert api_client(reader).post(reverse("sales-api:quote-accept", args=[created.pk])).status_code == 403
    created.refresh_from_db()
    assert created.status == QuoteStatus.DRAFT


class TestQuoteContract(ScopedModelContract):
    """The platform's promises (permission, scope, journal, conflicts) for quotes, pages and API."""

    module = "sales"
    url_namespace = "sales"
    url_model = "quote"
    api_namespace = "sales-api"

    def make(self, *, owner: Any, team: Any = None) -> Quote:
        deal = make_deal(owner=owner, team=team)
        return Quote.objects.create(
            number=numbering.next_number(), deal=deal, owner=owner, team=team, currency="USD", total=Decimal("0")
        )

    def deal(self) -> Deal:
        if not hasattr(self, "_deal"):
            self._deal = make_deal(name="Open deal")
        return self._deal

    def form_data(self) -> dict[str, Any]:
        return {
            "deal": self.deal().pk,
            "title": "Offer <b>1</b>",
            "currency": "USD",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Setup",
            "lines-0-unit_price": "100",
        }

    def api_data(self) -> dict[str, Any]:
        return {"deal": self.deal().pk, "title": "Offer", "lines": [{"description": "Setup", "unit_price": "100"}]}
