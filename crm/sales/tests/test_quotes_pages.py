"""Quote pages: the form with its lines (htmx rows, product prices, live totals), the quote's page with
its actions, the list, the deal's quotes panel, and what people outside the scope get."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from crm.sales.choices import DealStatus, QuoteStatus
from crm.sales.models import Quote, QuoteLine
from crm.sales.quotes import selectors, services
from crm.sales.tests.test_quotes_helpers import deal_with_contact, price_book, product, quote, seller

pytestmark = pytest.mark.django_db

CREATE = reverse("sales:quote_create")


@pytest.fixture
def me(roles):
    return seller(scope="own")


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


@pytest.fixture
def deal(me):
    return deal_with_contact(me)[0]


def form_data(deal, lines, **fields):
    data = {
        "deal": deal.pk,
        "contact": deal.contacts.get().pk,
        "title": "Rollout",
        "currency": "USD",
        "price_book": price_book("USD").pk,
        "valid_until": "",
        "notes": "",
        "terms": "Net 30",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(sum(1 for line in lines if line.get("id"))),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "500",
    }
    for index, line in enumerate(lines):
        for name, value in line.items():
            data[f"lines-{index}-{name}"] = value
    data.update(fields)
    return data


def test_the_new_quote_form_starts_from_the_deal(signed_in, deal):
    book = price_book("USD")
    page = signed_in.get(CREATE, {"deal": deal.pk}).content.decode()
    contact = deal.contacts.get()
    assert f'<option value="{contact.pk}" selected>' in page
    assert f'<option value="{book.pk}" selected>' in page
    assert '<option value="USD" selected>' in page
    assert f'name="deal" value="{deal.pk}"' in page


def test_create_with_a_product_line_and_a_free_line(signed_in, me, deal):
    licence = product("LIC-1", name="Licence", price="480", tax="20")
    response = signed_in.post(
        CREATE,
        form_data(
            deal,
            [
                {
                    "product": licence.pk,
                    "description": "",
                    "quantity": "2",
                    "unit_price": "",
                    "discount_percent": "",
                    "tax_rate": "",
                },
                {
                    "product": "",
                    "description": "Workshop",
                    "quantity": "",
                    "unit_price": "1,200.00",
                    "discount_percent": "10",
                    "tax_rate": "0",
                },
                {
                    "product": "",
                    "description": "",
                    "quantity": "",
                    "unit_price": "",
                    "discount_percent": "",
                    "tax_rate": "",
                },
            ],
        ),
    )
    created = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert [(line.description, line.line_total) for line in created.lines.order_by("position")] == [
        ("Licence", Decimal("960.00")),
        ("Workshop", Decimal("1080.00")),
    ]
    assert created.total == Decimal("2232.00") and created.terms == "Net 30" and created.owner == me
    page = signed_in.get(created.get_absolute_url()).content.decode()
    assert created.number in page and "$2,232.00" in page and "$1,080.00" in page


def test_a_bad_line_is_shown_on_its_row_and_nothing_is_saved(signed_in, deal):
    response = signed_in.post(
        CREATE,
        form_data(
            deal,
            [
                {"description": "Fine", "unit_price": "10"},
                {"description": "Too generous", "unit_price": "10", "discount_percent": "101"},
                {"description": "Backwards", "unit_price": "10", "quantity": "-2"},
            ],
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A discount cannot be more than 100%." in page
    assert "Enter a quantity greater than zero." in page
    assert page.index("Too generous") < page.index("A discount cannot be more than 100%.") < page.index("Backwards")
    assert "Nothing was saved yet" in page
    assert not Quote.objects.exists() and not QuoteLine.objects.exists()


def test_a_price_book_of_another_currency_is_refused_on_the_form(signed_in, deal):
    euro = price_book("EUR")
    response = signed_in.post(CREATE, form_data(deal, [{"description": "X", "unit_price": "1"}], price_book=euro.pk))
    assert response.status_code == 400
    assert "is in EUR; the quote is in USD" in response.content.decode()
    assert not Quote.objects.exists()


def test_edit_removes_changes_and_adds_lines(signed_in, me, deal):
    created = quote(
        me, deal, lines=[{"description": "A", "unit_price": "10"}, {"description": "B", "unit_price": "20"}]
    )
    first, second = created.lines.order_by("position")
    edit = reverse("sales:quote_edit", args=[created.pk])
    page = signed_in.get(edit).content.decode()
    assert 'value="A"' in page and 'value="B"' in page
    response = signed_in.post(
        edit,
        form_data(
            deal,
            [
                {"id": first.pk, "description": "A", "unit_price": "10", "DELETE": "on"},
                {"id": second.pk, "description": "B2", "unit_price": "25", "quantity": "2"},
                {"description": "C", "unit_price": "5"},
            ],
            version=created.version,
        ),
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert [line.description for line in created.lines.order_by("position")] == ["B2", "C"]
    assert created.total == Decimal("55.00")
    stale = signed_in.post(edit, form_data(deal, [{"description": "D", "unit_price": "1"}], version=1))
    assert stale.status_code == 409 and "Someone else saved this quote" in stale.content.decode()


def test_a_sent_quote_or_a_closed_deal_goes_back_with_a_message(signed_in, me, deal):
    created = quote(me, deal)
    services.quote_decline(actor=me, quote=created)
    response = signed_in.get(reverse("sales:quote_edit", args=[created.pk]), follow=True)
    assert "Only a draft can be edited" in response.content.decode()
    deal.status = DealStatus.WON
    deal.save()
    response = signed_in.get(CREATE, {"deal": deal.pk}, follow=True)
    assert "The deal is closed" in response.content.decode()


def test_the_add_line_button_gets_a_numbered_row_and_the_new_count(signed_in):
    product("LIC-1", name="Licence")
    response = signed_in.get(reverse("sales:quote_line_row"), {"lines-TOTAL_FORMS": "3"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'name="lines-3-description"' in page and 'name="lines-3-DELETE"' in page
    assert 'id="id_lines-TOTAL_FORMS" value="4" hx-swap-oob="true"' in page
    assert "Licence (LIC-1)" in page


def test_picking_a_product_fills_in_its_name_price_and_tax(signed_in):
    book = price_book("USD")
    licence = product("LIC-1", name="Licence", price="480.00", tax="19")
    response = signed_in.get(
        reverse("sales:quote_line_product"),
        {"prefix": "lines-2", "lines-2-product": licence.pk, "lines-2-quantity": "3", "price_book": book.pk},
    )
    page = response.content.decode()
    assert 'name="lines-2-description"' in page and 'value="Licence"' in page
    assert 'value="480.00"' in page and 'value="19"' in page and 'value="3"' in page
    assert signed_in.get(reverse("sales:quote_line_product"), {"prefix": "evil"}).status_code == 404


def test_the_totals_follow_the_form(signed_in, deal):
    licence = product("LIC-1", price="100")
    data = form_data(
        deal,
        [
            {"product": licence.pk, "quantity": "2", "discount_percent": "50"},
            {"description": "Tax", "unit_price": "10", "tax_rate": "10"},
            {"description": "Broken", "unit_price": "x"},
        ],
    )
    page = signed_in.post(reverse("sales:quote_preview"), data).content.decode()
    assert "$210.00" in page and "−$100.00" in page and "$1.00" in page and "$111.00" in page
    assert "not counted yet" in page
    assert not Quote.objects.exists()


def test_accept_and_decline_from_the_page(signed_in, me, deal):
    first, second = quote(me, deal), quote(me, deal)
    page = signed_in.get(first.get_absolute_url()).content.decode()
    assert reverse("sales:quote_accept", args=[first.pk]) in page
    signed_in.post(reverse("sales:quote_decline", args=[second.pk]), {"version": second.version})
    response = signed_in.post(reverse("sales:quote_accept", args=[first.pk]), {"version": first.version}, follow=True)
    assert "marked won" in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    deal.refresh_from_db()
    assert (first.status, second.status, deal.status) == (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, DealStatus.WON)
    page = signed_in.get(first.get_absolute_url()).content.decode()
    assert reverse("sales:quote_accept", args=[first.pk]) not in page
    assert reverse("sales:quote_edit", args=[first.pk]) not in page


def test_copy_and_delete_from_the_page(signed_in, me, deal):
    created = quote(me, deal)
    response = signed_in.post(reverse("sales:quote_duplicate", args=[created.pk]))
    copy = Quote.objects.exclude(pk=created.pk).get()
    assert response["Location"] == reverse("sales:quote_edit", args=[copy.pk])
    assert "Delete" in signed_in.get(reverse("sales:quote_delete", args=[copy.pk])).content.decode()
    signed_in.post(reverse("sales:quote_delete", args=[copy.pk]))
    assert list(Quote.objects.all()) == [created]


def test_the_list_filters_by_status_and_says_when_empty(signed_in, me, deal):
    empty = signed_in.get(reverse("sales:quote_list")).content.decode()
    assert "No quotes here" in empty
    draft, declined = quote(me, deal, title="Draft one"), quote(me, deal, title="Declined one")
    services.quote_decline(actor=me, quote=declined)
    page = signed_in.get(reverse("sales:quote_list"), {"status": "declined"}).content.decode()
    assert declined.number in page and draft.number not in page
    page = signed_in.get(reverse("sales:quote_list")).content.decode()
    assert declined.number in page and draft.number in page and "$250.00" in page


def test_the_deal_panel_lists_the_quotes_with_a_new_quote_button(me, deal, rf):
    created = quote(me, deal, title="First offer")
    request = rf.get("/")
    request.user = me
    html = render_to_string(
        "sales/quotes/_deal_quotes.html",
        {"quotes": selectors.deal_quotes(user=me, deal=deal), "deal": deal},
        request=request,
    )
    assert created.number in html and "First offer" in html and "$250.00" in html
    assert f"{CREATE}?deal={deal.pk}" in html
    assert reverse("sales:quote_pdf", args=[created.pk]) in html
    html = render_to_string("sales/quotes/_deal_quotes.html", {"quotes": [], "deal": deal, "can_create": False})
    assert "No quotes yet" in html and CREATE not in html


def test_quotes_outside_my_scope_are_not_found(signed_in, roles):
    other = seller(scope="own")
    their_deal = deal_with_contact(other)[0]
    theirs = quote(other, their_deal)
    for name in ("quote_detail", "quote_edit", "quote_pdf", "quote_send", "quote_delete"):
        assert signed_in.get(reverse(f"sales:{name}", args=[theirs.pk])).status_code == 404, name
    for name in ("quote_accept", "quote_decline", "quote_duplicate", "quote_delete"):
        assert signed_in.post(reverse(f"sales:{name}", args=[theirs.pk])).status_code == 404, name
    assert signed_in.get(CREATE, {"deal": their_deal.pk}).status_code == 404
    assert theirs.number not in signed_in.get(reverse("sales:quote_list")).content.decode()
    theirs.refresh_from_db()
    assert theirs.status == QuoteStatus.DRAFT
    assert selectors.deal_quotes(user=seller(scope="own"), deal=their_deal) == []


def test_pages_without_the_sales_permission_are_refused(client, roles):
    outsider = seller(actions=(), customers=("view",))
    owner = seller()
    created = quote(owner, deal_with_contact(owner)[0])
    client.force_login(outsider)
    for url in (reverse("sales:quote_list"), created.get_absolute_url(), reverse("sales:quote_pdf", args=[created.pk])):
        assert client.get(url).status_code == 403


def test_list_detail_and_form_pages_read_a_fixed_number_of_rows(signed_in, me, deal, django_assert_max_num_queries):
    """Session, user, then: the page of quotes and its capped count (list); the quote with its deal, its
    lines with their products and its history (detail); the form's choices and lines (form)."""
    for _ in range(5):
        quote(me, deal, lines=[{"description": f"Line {n}", "unit_price": "1"} for n in range(8)])
    created = Quote.objects.first()
    with django_assert_max_num_queries(4):
        assert signed_in.get(reverse("sales:quote_list")).status_code == 200
    with django_assert_max_num_queries(8):
        assert signed_in.get(created.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(7):
        assert signed_in.get(reverse("sales:quote_edit", args=[created.pk])).status_code == 200


def test_global_search_finds_quotes_by_number_and_products_by_code(signed_in, me, deal, roles):
    created = quote(me, deal, title="Rollout offer")
    product("LIC-PRO", name="CRM Professional licence")
    results = selectors.quote_search(user=me, query=created.number, limit=5)
    assert [result.url for result in results] == [created.get_absolute_url()]
    assert selectors.quote_search(user=me, query=created.number.rsplit("-", 1)[1], limit=5)[0].title.startswith(
        created.number
    )
    assert selectors.product_search(user=me, query="lic-pro", limit=5)[0].title == "CRM Professional licence"
    assert selectors.quote_search(user=seller(scope="own"), query=created.number, limit=5) == []
    page = signed_in.get(reverse("core:search"), {"q": created.number}).content.decode()
    assert created.get_absolute_url() in page


def test_pages_in_chinese(signed_in, me, deal):
    me.language = "zh-hans"
    me.save()
    created = quote(me, deal)
    for url in (
        created.get_absolute_url(),
        reverse("sales:quote_edit", args=[created.pk]),
        reverse("sales:quote_send", args=[created.pk]),
        reverse("sales:quote_list"),
        reverse("sales:product_list"),
        reverse("sales:price_book_list"),
    ):
        response = signed_in.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in response.content.decode()
    assert "US$250.00" in signed_in.get(created.get_absolute_url()).content.decode()
