"""The catalogue: products (unique code, deactivate), price books (one default per currency, prices per
product) and exchange rates (administrators only, known currencies, positive rates, a history per
currency), through services, pages and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.core.exceptions import ConflictError
from crm.core.testing import api_client, journal_entries
from crm.sales.currency import RateBook
from crm.sales.models import ExchangeRate, PriceBook, PriceBookEntry, Product
from crm.sales.quotes.catalog import services
from crm.sales.tests.test_quotes_helpers import deal_with_contact, price_book, product, quote, rate_keeper, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(roles):
    return seller()


@pytest.fixture
def admin(roles):
    return rate_keeper()


# --- products ----------------------------------------------------------------------------------------------


def test_create_update_and_deactivate_a_product(me):
    created = services.product_create(
        actor=me, data={"name": "  CRM   licence ", "code": "LIC-1", "unit": "user/year", "tax_rate": "20"}
    )
    assert (created.name, created.code, created.tax_rate, created.is_active) == (
        "CRM licence",
        "LIC-1",
        Decimal("20.00"),
        True,
    )
    services.product_update(actor=me, product=created, data={"name": "CRM Pro licence"}, version=1)
    services.product_set_active(actor=me, product=created, active=False)
    created.refresh_from_db()
    assert created.name == "CRM Pro licence" and not created.is_active and created.version == 3
    assert journal_entries(created).count() == 3


def test_product_codes_are_unique_whatever_the_case(me):
    product("LIC-1")
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(actor=me, data={"name": "Other", "code": "lic-1"})
    assert excinfo.value.message_dict["code"] == ["Another product has the code “lic-1”."]
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "code": "X"}, "name", "This field is required."),
        ({"name": "X", "code": ""}, "code", "This field is required."),
        ({"name": "X", "code": "X", "tax_rate": "101"}, "tax_rate", "cannot be more than 100%"),
        ({"name": "X", "code": "X", "tax_rate": "-1"}, "tax_rate", "cannot be negative"),
        ({"name": "X", "code": "X", "tax_rate": "lots"}, "tax_rate", "Enter a number."),
        ({"name": "X", "code": "X", "price": "1"}, "price", "Unknown field."),
    ],
)
def test_bad_product_input_is_refused(me, data, field, message):
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(actor=me, data=data)
    assert message in excinfo.value.message_dict[field][0]
    assert not Product.objects.exists()


def test_a_product_on_a_quote_cannot_be_deleted_only_deactivated(me):
    licence = product("LIC-1")
    deal, _contact = deal_with_contact(me)
    quote(me, deal, lines=[{"product": licence}])
    with pytest.raises(ValidationError, match="deactivate it instead"):
        services.product_delete(actor=me, product=licence)
    assert Product.objects.filter(pk=licence.pk).exists()


def test_product_writes_need_the_permissions(roles):
    reader = seller(actions=("view",))
    with pytest.raises(PermissionDenied):
        services.product_create(actor=reader, data={"name": "X", "code": "X"})


def test_product_list_searches_and_filters(me, client):
    product("LIC-1", name="CRM licence")
    product("HW-1", name="Barcode scanner")
    old = product("OLD-1", name="Old licence")
    old.is_active = False
    old.save()
    client.force_login(me)
    url = reverse("sales:product_list")
    page = client.get(url, {"q": "licence"}).content.decode()
    assert "CRM licence" in page and "Barcode scanner" not in page and "Old licence" not in page
    page = client.get(url, {"q": "hw-"}).content.decode()
    assert "Barcode scanner" in page
    page = client.get(url, {"status": "inactive"}).content.decode()
    assert "Old licence" in page and "CRM licence" not in page
    fragment = client.get(url, {"q": "nothing"}, HTTP_HX_REQUEST="true").content.decode()
    assert "No products found" in fragment and "<html" not in fragment


def test_empty_catalogue_invites_to_add_a_product(me, client):
    client.force_login(me)
    page = client.get(reverse("sales:product_list")).content.decode()
    assert "No products yet" in page and reverse("sales:product_create") in page


def test_product_pages_create_edit_conflict_and_deactivate(me, client):
    client.force_login(me)
    response = client.post(
        reverse("sales:product_create"), {"name": "Licence", "code": "LIC-1", "tax_rate": "", "is_active": "on"}
    )
    assert response.status_code == 302
    created = Product.objects.get()
    edit = reverse("sales:product_edit", args=[created.pk])
    assert client.post(edit, {"name": "Licence 2", "code": "LIC-1", "tax_rate": "7.5", "version": 1}).status_code == 302
    stale = client.post(edit, {"name": "Licence 3", "code": "LIC-1", "tax_rate": "7.5", "version": 1})
    assert stale.status_code == 409 and "Someone else saved this product" in stale.content.decode()
    bad = client.post(edit, {"name": "Licence 3", "code": "LIC-1", "tax_rate": "150", "version": 2})
    assert bad.status_code == 400 and "A tax rate cannot be more than 100%." in bad.content.decode()
    client.post(reverse("sales:product_set_active", args=[created.pk]), {"active": "0"})
    created.refresh_from_db()
    assert (created.name, created.tax_rate, created.is_active) == ("Licence 2", Decimal("7.50"), False)


def test_product_pages_need_the_permissions(roles, client):
    nobody = seller(actions=(), customers=())
    client.force_login(nobody)
    assert client.get(reverse("sales:product_list")).status_code == 403
    reader = seller(actions=("view",))
    client.force_login(reader)
    assert client.get(reverse("sales:product_list")).status_code == 200
    assert client.post(reverse("sales:product_create"), {"name": "X", "code": "X"}).status_code == 403
    assert not Product.objects.exists()


def test_products_api(me):
    api = api_client(me)
    url = reverse("sales-api:product-list")
    response = api.post(url, {"name": "Licence", "code": "LIC-1", "tax_rate": "19"}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert api.post(url, {"name": "Copy", "code": "lic-1"}, format="json").json()["errors"] == {
        "code": ["Another product has the code “lic-1”."]
    }
    bad = api.post(url, {"name": "X", "code": "X", "tax_rate": "120"}, format="json")
    assert bad.status_code == 400 and "more than 100%" in bad.json()["errors"]["tax_rate"][0]
    detail = reverse("sales-api:product-detail", args=[pk])
    assert api.patch(detail, {"is_active": False, "version": 1}, format="json").status_code == 200
    assert api.patch(detail, {"name": "Y", "version": 1}, format="json").status_code == 409
    assert [row["code"] for row in api.get(url, {"is_active": "false"}).json()["results"]] == ["LIC-1"]
    assert api.get(url, {"q": "lic"}).json()["results"][0]["name"] == "Licence"
    assert api.delete(detail).status_code == 204


# --- price books -------------------------------------------------------------------------------------------


def test_one_default_price_book_per_currency(me):
    first = services.price_book_create(actor=me, data={"name": "Standard", "currency": "eur"})
    assert first.currency == "EUR" and first.is_default  # the first of a currency is its default
    second = services.price_book_create(actor=me, data={"name": "Partner", "currency": "EUR", "is_default": False})
    assert not second.is_default
    services.price_book_update(actor=me, price_book=second, data={"is_default": True}, version=1)
    first.refresh_from_db()
    assert not first.is_default and PriceBook.objects.get(is_default=True) == second
    assert journal_entries(first).filter(action="update").get().changes == {"is_default": [True, False]}
    services.price_book_update(actor=me, price_book=second, data={"is_active": False}, version=2)
    second.refresh_from_db()
    assert not second.is_default and not second.is_active


def test_price_book_bad_input(me):
    with pytest.raises(ValidationError) as excinfo:
        services.price_book_create(actor=me, data={"name": "", "currency": "EURO"})
    errors = excinfo.value.message_dict
    assert "required" in errors["name"][0] and "not a known currency code" in errors["currency"][0]
    assert not PriceBook.objects.exists()


def test_the_currency_of_a_price_book_used_by_quotes_cannot_change(me):
    deal, _contact = deal_with_contact(me)
    book = price_book("USD")
    quote(me, deal)
    with pytest.raises(ValidationError) as excinfo:
        services.price_book_update(actor=me, price_book=book, data={"currency": "EUR"}, version=1)
    assert "Quotes use this price book" in excinfo.value.message_dict["currency"][0]
    with pytest.raises(ValidationError, match="deactivate it instead"):
        services.price_book_delete(actor=me, price_book=book)


def test_set_and_remove_prices(me):
    book = price_book("USD")
    licence = product("LIC-1", price=None)
    entry = services.price_book_set_price(actor=me, price_book=book, product=licence, unit_price="99.50")
    services.price_book_set_price(actor=me, price_book=book, product=licence, unit_price="89")
    entry.refresh_from_db()
    assert entry.unit_price == Decimal("89.00")
    assert journal_entries(entry).filter(action="update").get().changes == {"unit_price": ["99.50", "89.00"]}
    with pytest.raises(ValidationError) as excinfo:
        services.price_book_set_price(actor=me, price_book=book, product=licence, unit_price="-1")
    assert excinfo.value.message_dict["unit_price"] == ["A price cannot be negative."]
    services.price_book_remove_price(actor=me, price_book=book, product=licence)
    assert not PriceBookEntry.objects.exists()


def test_price_book_pages(me, client):
    client.force_login(me)
    response = client.post(
        reverse("sales:price_book_create"), {"name": "Standard CNY", "currency": "CNY", "is_active": "on"}
    )
    assert response.status_code == 302
    book = PriceBook.objects.get()
    licence = product("LIC-1", price=None)
    detail = reverse("sales:price_book_detail", args=[book.pk])
    assert client.post(detail, {"product": licence.pk, "unit_price": "3450"}).status_code == 302
    page = client.get(detail).content.decode()
    assert "CN¥3,450.00" in page and "LIC-1" in page
    bad = client.post(detail, {"product": licence.pk, "unit_price": "abc"})
    assert bad.status_code == 400 and "Enter an amount" in bad.content.decode()
    listing = client.get(reverse("sales:price_book_list")).content.decode()
    assert "Standard CNY" in listing and "default" in listing
    client.post(reverse("sales:price_book_remove_price", args=[book.pk, licence.pk]))
    assert not book.entries.exists()
    client.post(reverse("sales:price_book_delete", args=[book.pk]))
    assert not PriceBook.objects.exists()


def test_price_books_api_with_entries(me):
    licence, scanner = product("LIC-1", price=None), product("HW-1", name="Scanner", price=None)
    api = api_client(me)
    url = reverse("sales-api:price-book-list")
    response = api.post(
        url,
        {
            "name": "Standard EUR",
            "currency": "EUR",
            "entries": [{"product": licence.pk, "unit_price": "440.00"}, {"product": scanner.pk, "unit_price": "229"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_default"] is True
    assert [(row["product_code"], row["unit_price"]) for row in body["entries"]] == [
        ("LIC-1", "440.00"),
        ("HW-1", "229.00"),
    ]
    detail = reverse("sales-api:price-book-detail", args=[body["id"]])
    bad = api.patch(detail, {"version": 1, "entries": [{"product": licence.pk, "unit_price": "-4"}]}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"] == {"entries.0.unit_price": ["A price cannot be negative."]}
    response = api.patch(
        detail, {"version": 1, "entries": [{"product": licence.pk, "unit_price": "450"}]}, format="json"
    )
    assert response.status_code == 200
    assert [(row["product_code"], row["unit_price"]) for row in response.json()["entries"]] == [("LIC-1", "450.00")]
    duplicate = api.patch(
        detail,
        {
            "version": 2,
            "entries": [{"product": licence.pk, "unit_price": "1"}, {"product": licence.pk, "unit_price": "2"}],
        },
        format="json",
    )
    assert "listed twice" in duplicate.json()["errors"]["entries.1.product"][0]


# --- exchange rates ----------------------------------------------------------------------------------------


def test_rates_keep_a_history_and_feed_the_conversion(admin, settings):
    settings.CRM_CURRENCY = "USD"
    services.exchange_rate_create(actor=admin, data={"currency": "eur", "rate": "1.08", "valid_from": "2025-01-01"})
    services.exchange_rate_create(
        actor=admin, data={"currency": "EUR", "rate": "1.10", "valid_from": dt.date(2025, 7, 1)}
    )
    book = RateBook()
    assert book.rate("EUR", dt.date(2025, 3, 1)) == Decimal("1.08")
    assert book.rate("EUR", dt.date(2025, 8, 1)) == Decimal("1.10")
    assert book.to_base(Decimal("100"), "EUR", dt.date(2025, 8, 1)) == Decimal("110.00")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"currency": "XYZ", "rate": "1", "valid_from": "2025-01-01"}, "currency", "not a known currency code"),
        ({"currency": "USD", "rate": "1", "valid_from": "2025-01-01"}, "currency", "company's currency"),
        ({"currency": "EUR", "rate": "0", "valid_from": "2025-01-01"}, "rate", "greater than zero"),
        ({"currency": "EUR", "rate": "-2", "valid_from": "2025-01-01"}, "rate", "greater than zero"),
        ({"currency": "EUR", "rate": "one", "valid_from": "2025-01-01"}, "rate", "Enter a number."),
        ({"currency": "EUR", "rate": "1", "valid_from": "01/13/2025"}, "valid_from", "Enter a date"),
        ({"currency": "EUR", "rate": "1"}, "valid_from", "Enter a date."),
    ],
)
def test_bad_rates_are_refused(admin, settings, data, field, message):
    settings.CRM_CURRENCY = "USD"
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rate_create(actor=admin, data=data)
    assert message in excinfo.value.message_dict[field][0]
    assert not ExchangeRate.objects.exists()


def test_one_rate_per_currency_and_day(admin):
    services.exchange_rate_create(actor=admin, data={"currency": "EUR", "rate": "1.1", "valid_from": "2025-01-01"})
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rate_create(actor=admin, data={"currency": "EUR", "rate": "1.2", "valid_from": "2025-01-01"})
    assert "already has a rate" in excinfo.value.message_dict["valid_from"][0]
    assert ExchangeRate.objects.get().rate == Decimal("1.1")


def test_only_administrators_keep_rates(me):
    with pytest.raises(PermissionDenied):
        services.exchange_rate_create(actor=me, data={"currency": "EUR", "rate": "1.1", "valid_from": "2025-01-01"})


def test_exchange_rate_page(admin, client, settings):
    settings.CRM_CURRENCY = "USD"
    client.force_login(admin)
    url = reverse("sales:exchange_rate_list")
    page = client.get(url).content.decode()
    assert "No exchange rates yet" in page
    assert reverse("sales:exchange_rate_list") in client.get(reverse("customers:custom_field_list")).content.decode()
    response = client.post(url, {"currency": "EUR", "rate": "1.0850", "valid_from": "2025-01-01"})
    assert response.status_code == 302 and response["Location"] == f"{url}?currency=EUR"
    client.post(url, {"currency": "EUR", "rate": "1.1", "valid_from": "2025-07-01"})
    bad = client.post(url, {"currency": "EUR", "rate": "0", "valid_from": "2025-08-01"})
    assert bad.status_code == 400 and "The rate must be greater than zero." in bad.content.decode()
    history = client.get(url, {"currency": "EUR"}).content.decode()
    assert history.index("1.1<") < history.index("1.085<")
    rate = ExchangeRate.objects.get(valid_from="2025-07-01")
    client.post(reverse("sales:exchange_rate_delete", args=[rate.pk]))
    assert ExchangeRate.objects.count() == 1


def test_exchange_rate_page_is_for_administrators(me, client):
    client.force_login(me)
    assert client.get(reverse("sales:exchange_rate_list")).status_code == 403
    assert "exchange-rates" not in client.get(reverse("sales:product_list")).content.decode()


def test_exchange_rates_api(admin, me, settings):
    settings.CRM_CURRENCY = "USD"
    url = reverse("sales-api:exchange-rate-list")
    response = api_client(admin).post(
        url, {"currency": "CNY", "rate": "0.1385", "valid_from": "2025-01-01"}, format="json"
    )
    assert response.status_code == 201, response.content
    bad = api_client(admin).post(url, {"currency": "ABC", "rate": "-1", "valid_from": "2025-01-01"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"currency", "rate"}
    rows = api_client(me).get(url, {"currency": "cny"}).json()["results"]
    assert [(row["currency"], row["rate"]) for row in rows] == [("CNY", "0.13850000")]
    assert (
        api_client(me)
        .post(url, {"currency": "EUR", "rate": "1", "valid_from": "2025-01-01"}, format="json")
        .status_code
        == 403
    )
    assert api_client(me).delete(reverse("sales-api:exchange-rate-detail", args=[rows[0]["id"]])).status_code == 403
    assert api_client(admin).delete(reverse("sales-api:exchange-rate-detail", args=[rows[0]["id"]])).status_code == 204


def test_edit_conflict_on_a_price_book(me):
    book = price_book("USD")
    services.price_book_update(actor=me, price_book=PriceBook.objects.get(pk=book.pk), data={"name": "A"}, version=1)
    with pytest.raises(ConflictError):
        services.price_book_update(
            actor=me, price_book=PriceBook.objects.get(pk=book.pk), data={"name": "B"}, version=1
        )
