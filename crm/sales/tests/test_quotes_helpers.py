"""Building blocks shared by the tests of products, price books, exchange rates and quotes (this
module holds no tests itself)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.customers.models import Company, Contact, ContactEmail
from crm.sales.models import Deal, DealContact, PriceBook, PriceBookEntry, Product, Quote
from crm.sales.quotes import services
from crm.sales.tests.factories import make_deal

ALL = ("view", "create", "edit", "delete", "export")


def seller(
    *, scope: str = "all", actions: tuple[str, ...] = ALL, customers: tuple[str, ...] = ALL, **kwargs: Any
) -> Any:
    """A person who may work on sales (``actions``) and on customers (``customers``), with ``scope``."""
    role = RoleFactory(permissions={"sales": list(actions), "customers": list(customers)}, data_scope=scope)
    return UserFactory(role=role, **kwargs)


def rate_keeper() -> Any:
    """An administrator of the settings pages (module ``accounts``) who may view sales."""
    role = RoleFactory(permissions={"accounts": list(ALL), "sales": ["view"]}, data_scope="all")
    return UserFactory(role=role)


def deal_with_contact(
    owner: Any, *, currency: str = "USD", email: str = "ada@example.com", name: str = "Ada Lovelace", team: Any = None
) -> tuple[Deal, Contact]:
    company = Company.objects.create(name="Acme Ltd", owner=owner, team=team, city="London", country="GB")
    first, _, last = name.partition(" ")
    fields = {"first_name": first, "last_name": last} if last else {"full_name": name}
    contact = Contact.objects.create(company=company, owner=owner, team=team, **fields)
    if email:
        ContactEmail.objects.create(contact=contact, email=email, is_primary=True)
        Contact.objects.filter(pk=contact.pk).update(email=email)
        contact.refresh_from_db()
    deal = make_deal(owner=owner, team=team, currency=currency, company=company, name="Acme rollout")
    DealContact.objects.create(deal=deal, contact=contact, role="Buyer")
    return deal, contact


def price_book(currency: str = "USD", *, name: str | None = None, default: bool = True) -> PriceBook:
    book = PriceBook.objects.filter(currency=currency, is_default=True).first() if default else None
    return book or PriceBook.objects.create(name=name or f"Standard {currency}", currency=currency, is_default=default)


def product(
    code: str = "LIC-1", *, name: str = "Licence", price: str | None = "100.00", currency: str = "USD", tax: str = "0"
) -> Product:
    item = Product.objects.create(name=name, code=code, tax_rate=Decimal(tax))
    if price is not None:
        PriceBookEntry.objects.create(price_book=price_book(currency), product=item, unit_price=Decimal(price))
    return item


def quote(actor: Any, deal: Deal, *, lines: list[dict[str, Any]] | None = None, **data: Any) -> Quote:
    if lines is None:
        lines = [{"description": "Setup", "quantity": "1", "unit_price": "250.00"}]
    return services.quote_create(actor=actor, data={"deal": deal, "lines": lines, **data})
