"""Quotes through their services: lines priced from the price book, totals, bad input refused with
field errors and nothing written, numbers, edit conflicts, closed deals, accept, decline, copy, delete."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.core.exceptions import ConflictError
from crm.core.testing import journal_entries
from crm.sales.choices import DealStatus, QuoteStatus
from crm.sales.models import Quote, QuoteLine
from crm.sales.quotes import numbering, services
from crm.sales.tests.factories import make_deal
from crm.sales.tests.test_quotes_helpers import deal_with_contact, price_book, product, quote, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(roles):
    return seller()


@pytest.fixture
def deal(me):
    return deal_with_contact(me)[0]


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def nothing_written(before_quotes: int = 0, before_lines: int = 0) -> bool:
    return Quote.objects.count() == before_quotes and QuoteLine.objects.count() == before_lines


# --- create -----------------------------------------------------------------------------------------------


def test_create_prices_product_lines_from_the_price_book_and_stores_the_totals(me, deal):
    licence = product("LIC-1", name="Licence", price="480.00", tax="20")
    created = quote(
        me,
        deal,
        lines=[
            {"product": licence, "quantity": "3", "discount_percent": "10"},
            {"description": "Onboarding day", "quantity": "1", "unit_price": "1200", "tax_rate": "0"},
        ],
    )
    lines = list(created.lines.order_by("position"))
    assert [line.description for line in lines] == ["Licence", "Onboarding day"]
    assert lines[0].unit_price == Decimal("480.00") and lines[0].tax_rate == Decimal("20.00")
    assert lines[0].line_total == Decimal("1296.00")  # 3 × 480 − 10 %
    assert (created.subtotal, created.discount_total, created.tax_total, created.total) == (
        Decimal("2640.00"),
        Decimal("144.00"),
        Decimal("259.20"),
        Decimal("2755.20"),
    )
    assert created.status == QuoteStatus.DRAFT
    assert created.currency == "USD" and created.price_book == price_book("USD")
    assert created.contact == deal.contacts.get()
    assert created.valid_until == timezone.localdate() + dt.timedelta(days=30)
    assert created.owner == me
    assert journal_entries(created).filter(action="create").exists()
    assert all(journal_entries(line).filter(action="create").exists() for line in lines)


def test_numbers_count_up_within_the_year_and_are_unique(me, deal):
    year = timezone.localdate().year
    first, second = quote(me, deal), quote(me, deal)
    assert first.number == f"Q-{year}-00001"
    assert second.number == f"Q-{year}-00002"
    Quote.objects.filter(pk=second.pk).update(number=f"Q-{year}-99999")
    assert quote(me, deal).number == f"Q-{year}-100000"
    assert quote(me, deal).number == f"Q-{year}-100001"


def test_a_number_taken_meanwhile_by_someone_else_moves_to_the_next(me, deal):
    """Two people creating a quote at the same moment read the same last number; the database refuses
    the second insert and that quote takes the next number."""
    year = timezone.localdate().year
    taken = quote(me, deal)
    real_next = numbering.next_number
    calls = []

    def racing_next_number(day=None):
        calls.append(1)
        return taken.number if len(calls) == 1 else real_next(day)

    with mock.patch.object(numbering, "next_number", racing_next_number):
        created = quote(me, deal)
    assert created.number == f"Q-{year}-00002"
    assert len(calls) == 2
    assert Quote.objects.filter(number=taken.number).count() == 1


def test_currency_and_price_book_of_another_currency_are_refused(me, deal):
    product("LIC-1", price="100")
    euro = price_book("EUR")
    with pytest.raises(ValidationError) as excinfo:
        quote(me, deal, price_book=euro)
    assert "is in EUR; the quote is in USD" in errors_of(excinfo)["price_book"][0]
    with pytest.raises(ValidationError) as excinfo:
        quote(me, deal, currency="XYZ")
    assert "not a known currency code" in errors_of(excinfo)["currency"][0]
    assert nothing_written()


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "10"}, "quantity", "greater than zero"),
        ({"description": "x", "quantity": "abc", "unit_price": "10"}, "quantity", "Enter a number."),
        ({"description": "x", "quantity": "1.2345", "unit_price": "10"}, "quantity", "3 decimal places"),
        ({"description": "x", "unit_price": "-5"}, "unit_price", "cannot be negative"),
        ({"description": "x", "unit_price": "12,5x"}, "unit_price", "Enter an amount"),
        ({"description": "x", "unit_price": "1.999"}, "unit_price", "2 decimal places"),
        ({"description": "x", "unit_price": "10", "discount_percent": "101"}, "discount_percent", "more than 100%"),
        ({"description": "x", "unit_price": "10", "discount_percent": "-1"}, "discount_percent", "cannot be negative"),
        ({"description": "x", "unit_price": "10", "tax_rate": "250"}, "tax_rate", "more than 100%"),
        ({"description": "", "unit_price": "10"}, "description", "Describe the line"),
        ({"description": "x"}, "unit_price", "Enter a unit price"),
        ({"description": "x", "unit_price": "10", "colour": "red"}, "colour", "Unknown field"),
        ({"product": 987654, "unit_price": "10"}, "product", "Select a valid choice"),
        ({"description": "x", "unit_price": "999999999999", "quantity": "5"}, "quantity", "too large"),
    ],
)
def test_bad_lines_get_a_field_error_and_nothing_is_written(me, deal, line, field, message):
    good = {"description": "Setup", "unit_price": "10"}
    with pytest.raises(ValidationError) as excinfo:
        quote(me, deal, lines=[good, line])
    errors = errors_of(excinfo)
    assert message in " ".join(errors[f"lines.1.{field}"]), errors
    assert not any(key.startswith("lines.0") for key in errors)
    assert nothing_written()


def test_a_product_without_a_price_in_the_book_asks_for_a_price(me, deal):
    price_book("USD")
    unpriced = product("SRV-1", name="Consulting", price=None)
    with pytest.raises(ValidationError) as excinfo:
        quote(me, deal, lines=[{"product": unpriced}])
    assert "has no price in the price book" in errors_of(excinfo)["lines.0.unit_price"][0]
    created = quote(me, deal, lines=[{"product": unpriced, "unit_price": "150"}])
    assert created.total == Decimal("150.00")


def test_an_inactive_product_cannot_be_put_on_a_new_line(me, deal):
    old = product("OLD-1", name="Old thing")
    old.is_active = False
    old.save()
    with pytest.raises(ValidationError) as excinfo:
        quote(me, deal, lines=[{"product": old}])
    assert "no longer sold" in errors_of(excinfo)["lines.0.product"][0]


def test_the_contact_must_belong_to_the_deal_or_its_company(me, deal):
    _other_deal, stranger = deal_with_contact(me, email="bob@example.com", name="Bob Stranger")
    with pytest.raises(ValidationError) as excinfo:
        quote(me, deal, contact=stranger)
    assert "contact of the deal" in errors_of(excinfo)["contact"][0]
    assert nothing_written()


def test_a_deal_outside_my_scope_or_closed_is_refused(roles):
    me, other = seller(scope="own"), seller(scope="own")
    theirs = deal_with_contact(other)[0]
    with pytest.raises(ValidationError) as excinfo:
        quote(me, theirs)
    assert errors_of(excinfo)["deal"] == ["Select a valid choice."]
    mine = deal_with_contact(me)[0]
    mine.status = DealStatus.WON
    mine.save()
    with pytest.raises(ValidationError) as excinfo:
        quote(me, mine)
    assert "closed" in errors_of(excinfo)["deal"][0]
    assert nothing_written()


def test_creating_needs_the_permission(roles):
    reader = seller(actions=("view",))
    deal = deal_with_contact(reader)[0]
    with pytest.raises(PermissionDenied):
        quote(reader, deal)


def test_a_quote_in_yen_rounds_to_whole_yen(me):
    deal = deal_with_contact(me, currency="JPY")[0]
    created = quote(me, deal, lines=[{"description": "Licence", "quantity": "3", "unit_price": "333.50"}])
    assert created.total == Decimal("1001")


# --- update -----------------------------------------------------------------------------------------------


def test_update_keeps_unchanged_lines_changes_others_adds_and_removes(me, deal):
    created = quote(
        me,
        deal,
        lines=[
            {"description": "Keep", "unit_price": "10"},
            {"description": "Change", "unit_price": "20"},
            {"description": "Drop", "unit_price": "30"},
        ],
    )
    keep, change, drop = created.lines.order_by("position")
    services.quote_update(
        actor=me,
        quote=created,
        data={
            "title": "Revised",
            "lines": [
                {"id": keep.pk, "description": "Keep", "unit_price": "10"},
                {"id": change.pk, "description": "Changed", "unit_price": "25", "quantity": "2"},
                {"description": "New", "unit_price": "5"},
            ],
        },
        version=created.version,
    )
    created.refresh_from_db()
    assert [(line.description, line.line_total) for line in created.lines.order_by("position")] == [
        ("Keep", Decimal("10.00")),
        ("Changed", Decimal("50.00")),
        ("New", Decimal("5.00")),
    ]
    assert created.total == Decimal("65.00") and created.title == "Revised" and created.version == 2
    assert not journal_entries(keep).filter(action="update").exists()
    assert journal_entries(change).filter(action="update").get().changes["description"] == ["Change", "Changed"]
    assert journal_entries(drop).filter(action="delete").exists()


def test_a_stale_edit_is_a_conflict_and_changes_nothing(me, deal):
    created = quote(me, deal)
    services.quote_update(actor=me, quote=Quote.objects.get(pk=created.pk), data={"title": "First"}, version=1)
    with pytest.raises(ConflictError):
        services.quote_update(
            actor=me,
            quote=Quote.objects.get(pk=created.pk),
            data={"title": "Second", "lines": [{"description": "Other", "unit_price": "1"}]},
            version=1,
        )
    created.refresh_from_db()
    assert created.title == "First" and created.lines.get().description == "Setup"


def test_a_line_of_another_quote_cannot_be_edited_through_this_one(me, deal):
    first, second = quote(me, deal), quote(me, deal)
    foreign = second.lines.get()
    with pytest.raises(ValidationError) as excinfo:
        services.quote_update(
            actor=me,
            quote=first,
            data={"lines": [{"id": foreign.pk, "description": "Hijack", "unit_price": "1"}]},
            version=1,
        )
    assert errors_of(excinfo)["lines.0.id"] == ["This line is not part of the quote."]
    foreign.refresh_from_db()
    assert foreign.description == "Setup"


def test_only_a_draft_of_an_open_deal_can_be_edited(me, deal):
    created = quote(me, deal)
    services.quote_decline(actor=me, quote=created)
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        services.quote_update(actor=me, quote=created, data={"title": "x"}, version=None)
    draft = quote(me, deal)
    deal.status = DealStatus.LOST
    deal.save()
    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="deal is closed"):
        services.quote_update(actor=me, quote=draft, data={"title": "x"}, version=None)


def test_a_quote_cannot_move_to_another_deal(me, deal):
    created = quote(me, deal)
    other = make_deal(owner=me)
    with pytest.raises(ValidationError) as excinfo:
        services.quote_update(actor=me, quote=created, data={"deal": other}, version=None)
    assert "stays with the deal" in errors_of(excinfo)["deal"][0]


# --- decisions ------------------------------------------------------------------------------------------------


def test_accepting_wins_the_deal_and_a_deal_has_one_accepted_quote(me, deal):
    first, second = quote(me, deal), quote(me, deal)
    services.quote_accept(actor=me, quote=first)
    first.refresh_from_db()
    deal.refresh_from_db()
    assert first.status == QuoteStatus.ACCEPTED and first.accepted_at is not None
    assert deal.status == DealStatus.WON and deal.stage.name == "Won"
    with pytest.raises(ValidationError, match="already accepted"):
        services.quote_accept(actor=me, quote=second)
    second.refresh_from_db()
    assert second.status == QuoteStatus.DRAFT


def test_accepting_a_quote_of_a_lost_deal_is_refused(me, deal):
    created = quote(me, deal)
    deal.status = DealStatus.LOST
    deal.save()
    created.refresh_from_db()
    with pytest.raises(ValidationError, match="deal is lost"):
        services.quote_accept(actor=me, quote=created)
    created.refresh_from_db()
    assert created.status == QuoteStatus.DRAFT


def test_declining_leaves_the_deal_open_and_is_final(me, deal):
    created = quote(me, deal)
    services.quote_decline(actor=me, quote=created)
    created.refresh_from_db()
    deal.refresh_from_db()
    assert created.status == QuoteStatus.DECLINED and deal.status == DealStatus.OPEN
    with pytest.raises(ValidationError):
        services.quote_accept(actor=me, quote=created)


def test_a_stale_decision_is_a_conflict(me, deal):
    created = quote(me, deal)
    services.quote_update(actor=me, quote=created, data={"title": "x"}, version=1)
    with pytest.raises(ConflictError):
        services.quote_decline(actor=me, quote=Quote.objects.get(pk=created.pk), version=1)


def test_copy_makes_a_new_draft_with_the_same_lines(me, deal):
    original = quote(
        me, deal, lines=[{"description": "A", "unit_price": "7", "quantity": "2", "discount_percent": "50"}]
    )
    services.quote_decline(actor=me, quote=original)
    copy = services.quote_duplicate(actor=me, quote=original)
    assert copy.pk != original.pk and copy.number != original.number and copy.status == QuoteStatus.DRAFT
    assert copy.total == original.total == Decimal("7.00")
    assert [line.description for line in copy.lines.all()] == ["A"]


def test_delete_refuses_an_accepted_quote(me, deal):
    draft, accepted = quote(me, deal), quote(me, deal)
    services.quote_accept(actor=me, quote=accepted)
    services.quote_delete(actor=me, quote=draft)
    assert not Quote.objects.filter(pk=draft.pk).exists()
    assert not QuoteLine.objects.filter(quote_id=draft.pk).exists()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        services.quote_delete(actor=me, quote=accepted)


@pytest.mark.django_db(transaction=True)
def test_quotes_created_at_the_same_moment_get_different_numbers(roles):
    """Real concurrent writers (PostgreSQL): every quote gets its own number, none fails."""
    from django.db import connection

    # SQLite admits one writer at a time (its in-memory test database refuses a second outright):
    # there the writers take turns; PostgreSQL runs them truly at once.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    me = seller()
    deal = deal_with_contact(me)[0]
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait(timeout=10)
            with turns:
                quote(me, deal)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=create) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not failures, failures
    numbers = sorted(Quote.objects.values_list("number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"Q-{year}-{n:05d}" for n in range(1, 5)]
