"""Every write of quotes: create from a deal, edit a draft with its lines, send it by email with the
PDF, accept (the deal is won) or decline, copy, delete.

Rules that hold whatever the path (page, API, demo data):

* a quote belongs to a deal the actor can see, and is addressed to a contact of that deal (or of its
  company) the actor can see;
* its price book is in its currency; a product line without a unit price takes the price book's;
* quantities, prices, discounts (0–100 %) and tax rates are checked line by line, errors keyed
  ``lines.<n>.<field>``; the totals are computed by ``pricing`` and stored, never taken from input;
* only a draft of an open deal can be edited; a deal has at most one accepted quote;
* the number (``Q-2026-00042``) is unique, also when two people create quotes at the same moment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.exceptions import ConflictError
from crm.core.money import validate_currency
from crm.core.versioning import save_versioned
from crm.customers.models import Contact

from ..choices import DealStatus, QuoteStatus
from ..deals import selectors as deal_selectors
from ..models import Deal, PriceBook, Quote
from . import checks, numbering, pricing, selectors
from . import lines as lines_

MODULE = "sales"
QUOTE_FIELDS = ("contact", "title", "currency", "price_book", "valid_until", "terms", "notes")
VALID_DAYS = 30
EDITABLE_STATUSES = (QuoteStatus.DRAFT,)
OPEN_STATUSES = (QuoteStatus.DRAFT, QuoteStatus.SENT)


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


# --- checks -----------------------------------------------------------------------------------------------


def _check_deal_open(deal: Deal) -> None:
    if deal.status != DealStatus.OPEN:
        raise ValidationError(_("The deal is closed: its quotes can no longer be changed."))


def check_editable(quote: Quote) -> None:
    _check_deal_open(quote.deal)
    if quote.status not in EDITABLE_STATUSES:
        raise ValidationError(
            _("Only a draft can be edited; this quote is %(status)s. Copy it to make a new draft.")
            % {"status": quote.get_status_display().lower()}
        )


def _check_contact(actor: Any, deal: Deal, contact: Any) -> Contact | None:
    if contact in (None, ""):
        return None
    pk = contact.pk if isinstance(contact, Contact) else contact
    found = selectors.quote_contact_choices(user=actor, deal=deal).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise ValidationError(_("Choose a contact of the deal or of its company."))
    return found


def _check_price_book(price_book: Any, currency: str | None) -> PriceBook | None:
    if price_book in (None, ""):
        return None
    if not isinstance(price_book, PriceBook):
        price_book = PriceBook.objects.filter(pk=price_book).first() if str(price_book).isdigit() else None
        if price_book is None:
            raise ValidationError(_("Select a valid choice."))
    if currency and price_book.currency != currency:
        raise ValidationError(
            _("The price book “%(name)s” is in %(book)s; the quote is in %(quote)s. Choose a price book in %(quote)s.")
            % {"name": price_book.name, "book": price_book.currency, "quote": currency}
        )
    return price_book


def _apply_quote(actor: Any, quote: Quote, data: dict[str, Any], errors: checks.Errors) -> list[str]:
    """Set the quote's own fields from ``data`` (errors collected); the names of fields that changed."""
    changed: list[str] = []

    def put(name: str, value: Any) -> None:
        if getattr(quote, name) != value:
            setattr(quote, name, value)
            changed.append(name)

    if "currency" in data:
        currency = errors.check("currency", validate_currency, data["currency"])
        if currency:
            put("currency", currency)
    if "price_book" in data:
        book = errors.check("price_book", _check_price_book, data["price_book"], None)
        if "price_book" not in errors.errors:
            put("price_book", book)
    if "price_book" not in errors.errors and "currency" not in errors.errors and quote.price_book is not None:
        errors.check("price_book", _check_price_book, quote.price_book, quote.currency)
    if "contact" in data:
        contact = errors.check("contact", _check_contact, actor, quote.deal, data["contact"])
        if "contact" not in errors.errors:
            put("contact", contact)
    if "title" in data:
        title = errors.check("title", checks.text, data["title"], limit=200)
        if title is not None:
            put("title", title)
    for name in ("terms", "notes"):
        if name in data:
            value = errors.check(name, checks.text, data[name], limit=5000, single_line=False)
            if value is not None:
                put(name, value)
    if "valid_until" in data:
        valid_until = errors.check("valid_until", checks.date, data["valid_until"])
        if "valid_until" not in errors.errors:
            start = quote.created_at.date() if quote.created_at else timezone.localdate()
            if valid_until is not None and valid_until < start and valid_until != quote.valid_until:
                errors.add("valid_until", _("The quote cannot expire before it was made."))
            else:
                put("valid_until", valid_until)
    return changed


def quote_price_preview(
    *, actor: Any, deal: Deal, data: dict[str, Any], quote: Quote | None = None
) -> tuple[pricing.QuoteTotals, bool]:
    """The totals the lines of ``data`` would give, saving nothing (the form's live totals), and
    whether some input is still wrong (those lines are left out of the totals)."""
    _require(actor, "view")
    probe = Quote(deal=deal, currency=quote.currency if quote else deal.currency)
    if quote is not None:
        probe.pk, probe.price_book = quote.pk, quote.price_book
    errors = checks.Errors()
    fields: dict[str, Any] = {name: data[name] for name in ("currency", "price_book") if name in data}
    _apply_quote(actor, probe, fields, errors)
    lines = lines_.prepare(probe, data.get("lines") or [], errors)
    totals = pricing.quote_totals((lines_.amounts(line, probe.currency) for line in lines), probe.currency)
    return totals, bool(errors)


# --- writes -----------------------------------------------------------------------------------------------


@transaction.atomic
def quote_create(*, actor: Any, data: dict[str, Any]) -> Quote:
    """A draft quote for ``data["deal"]`` with its ``lines``. Currency defaults to the deal's, the price
    book to the default of that currency, the validity to 30 days, the contact to the deal's first."""
    _require(actor, "create")
    data = dict(data)
    unknown = sorted(set(data) - {"deal", "lines", *QUOTE_FIELDS})
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    deal = data.pop("deal", None)
    pk = deal.pk if isinstance(deal, Deal) else deal
    deal = deal_selectors.deal_list(user=actor).filter(pk=pk).first() if str(pk or "").isdigit() else None
    if deal is None:
        raise ValidationError({"deal": _("Select a valid choice.")})
    try:
        _check_deal_open(deal)
    except ValidationError as exc:
        raise ValidationError({"deal": exc.messages}) from None
    quote = Quote(deal=deal, owner=actor, team_id=deal.team_id, status=QuoteStatus.DRAFT)
    quote.currency = deal.currency
    data.setdefault("currency", deal.currency)
    if "price_book" not in data:
        currency = str(data.get("currency") or "").strip().upper()
        data["price_book"] = selectors.price_book_default(currency=currency)
    data.setdefault("valid_until", timezone.localdate() + dt.timedelta(days=VALID_DAYS))
    if "contact" not in data:
        data["contact"] = selectors.quote_contact_choices(user=actor, deal=deal).filter(deal_roles__deal=deal).first()
    errors = checks.Errors()
    _apply_quote(actor, quote, data, errors)
    lines = lines_.prepare(quote, data.get("lines") or [], errors) if "currency" not in errors.errors else []
    if not errors:
        lines_.set_totals(quote, lines, errors)
    errors.raise_if_any()
    quote.full_clean(exclude=["number"], validate_unique=False)
    numbering.insert_numbered(quote)
    lines_.write(quote, lines)
    return quote


@transaction.atomic
def quote_update(*, actor: Any, quote: Quote, data: dict[str, Any], version: int | None) -> Quote:
    """Change a draft; ``lines``, when given, is the whole list (lines named by ``id`` are kept)."""
    _require(actor, "edit")
    data = dict(data)
    unknown = sorted(set(data) - {"deal", "lines", *QUOTE_FIELDS})
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    if version is not None and version != quote.version:
        raise ConflictError(current=quote)  # whatever else is wrong: the editor saw an old version
    deal = data.pop("deal", None)
    if deal is not None and (deal.pk if isinstance(deal, Deal) else deal) != quote.deal_id:
        raise ValidationError({"deal": _("A quote stays with the deal it was made for.")})
    check_editable(quote)
    errors = checks.Errors()
    fields = _apply_quote(actor, quote, data, errors)
    if "lines" in data:
        lines = lines_.prepare(quote, data["lines"], errors) if "currency" not in errors.errors else []
    else:
        lines = list(quote.lines.all())
    if not errors:
        fields += lines_.set_totals(quote, lines, errors)
    errors.raise_if_any()
    save_versioned(quote, expected_version=version, update_fields=fields)
    if "lines" in data:
        lines_.write(quote, lines)
    return quote


@transaction.atomic
def quote_delete(*, actor: Any, quote: Quote) -> None:
    _require(actor, "delete")
    if quote.status == QuoteStatus.ACCEPTED:
        raise ValidationError(_("An accepted quote is kept with its deal; it cannot be deleted."))
    quote.delete()


@transaction.atomic
def quote_duplicate(*, actor: Any, quote: Quote) -> Quote:
    """A new draft with the same fields and lines (prices as they were on ``quote``)."""
    lines = [
        {
            "product": line.product,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_rate": line.tax_rate,
        }
        for line in quote.lines.select_related("product").order_by("position", "id")
    ]
    data = {
        "deal": quote.deal,
        "contact": quote.contact,
        "title": quote.title,
        "currency": quote.currency,
        "price_book": quote.price_book if quote.price_book and quote.price_book.is_active else None,
        "terms": quote.terms,
        "notes": quote.notes,
        "lines": lines,
    }
    return quote_create(actor=actor, data=data)


def _set_status(quote: Quote, status: str, version: int | None, **stamps: Any) -> Quote:
    quote.status = status
    for name, value in stamps.items():
        setattr(quote, name, value)
    save_versioned(quote, expected_version=version, update_fields=["status", *stamps])
    return quote


@transaction.atomic
def quote_send(*, actor: Any, quote: Quote, subject: str, message: str, version: int | None = None) -> Quote:
    """Email the quote's PDF to its contact, mark it sent and log the email on the contact and the deal.

    The email leaves last: if it cannot be sent, the quote stays as it was and nothing is logged.
    """
    from ..deals.services import deal_log_activity
    from .mail import quote_email

    _require(actor, "edit")
    _check_deal_open(quote.deal)
    if quote.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This quote is %(status)s: it cannot be sent.") % {"status": quote.get_status_display()}
        )
    errors = checks.Errors()
    subject = errors.check("subject", checks.text, subject, limit=200, required=True)
    message = errors.check("message", checks.text, message, limit=10000, required=True, single_line=False)
    contact = quote.contact
    if contact is None:
        errors.add("contact", _("Choose who the quote is for before sending it."))
    elif not contact.email:
        errors.add(
            "contact",
            _("%(name)s has no email address. Add one to the contact, or address the quote to someone else.")
            % {"name": contact.name},
        )
    if not quote.lines.exists():
        errors.add("lines", _("Add at least one line before sending the quote."))
    if not access.can(actor, "customers", "create"):
        errors.add("__all__", _("Sending a quote logs the email on the contact, and you may not log activities."))
    errors.raise_if_any()
    assert contact is not None
    _set_status(quote, QuoteStatus.SENT, version, sent_at=timezone.now())
    deal_log_activity(
        actor=actor,
        deal=quote.deal,
        data={"kind": "email", "subject": subject, "body": message, "direction": "outbound", "contact": contact},
    )
    quote_email(quote=quote, sender=actor, subject=subject, message=message).send(fail_silently=False)
    return quote


@transaction.atomic
def quote_accept(*, actor: Any, quote: Quote, version: int | None = None) -> Quote:
    """The customer said yes: the quote is accepted and its deal won (a deal has one accepted quote)."""
    from ..deals.services import deal_close

    _require(actor, "edit")
    if not deal_selectors.deal_list(user=actor, action="edit").filter(pk=quote.deal_id).exists():
        raise ValidationError(_("You may not change the deal of this quote, so you cannot accept it."))
    deal = Deal.objects.select_for_update().get(pk=quote.deal_id)
    if quote.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This quote is %(status)s: it cannot be accepted.") % {"status": quote.get_status_display().lower()}
        )
    if deal.status == DealStatus.LOST:
        raise ValidationError(_("The deal is lost: its quotes can no longer be accepted."))
    other = selectors.deal_accepted_quote(deal=deal, exclude=quote)
    if other is not None:
        raise ValidationError(
            _("Quote %(number)s of this deal is already accepted: a deal has one accepted quote.")
            % {"number": other.number}
        )
    _set_status(quote, QuoteStatus.ACCEPTED, version, accepted_at=timezone.now())
    if deal.status == DealStatus.OPEN:
        deal_close(actor=actor, deal=deal, won=True, version=None)
    quote.deal = deal
    return quote


@transaction.atomic
def quote_decline(*, actor: Any, quote: Quote, version: int | None = None) -> Quote:
    """The customer said no (the deal stays open: another quote may follow)."""
    _require(actor, "edit")
    if quote.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This quote is %(status)s: it cannot be declined.") % {"status": quote.get_status_display().lower()}
        )
    return _set_status(quote, QuoteStatus.DECLINED, version)
