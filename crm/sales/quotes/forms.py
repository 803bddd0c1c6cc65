"""Forms of the product, price book, exchange rate and quote pages.

Forms only shape input: numbers travel as the text typed, and the services check them (the same
messages for pages and API). A service's error keyed ``lines.<n>.<field>`` lands on the line it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.money import base_currency, currency_choices

from ..models import Deal, PriceBook, Product, Quote
from . import selectors
from .display import plain
from .services import VALID_DAYS

NUMBER_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


def _number(label: Any, *, required: bool = False, placeholder: str = "") -> forms.CharField:
    attrs = dict(NUMBER_ATTRS)
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.CharField(label=label, required=required, max_length=40, widget=forms.TextInput(attrs=attrs))


def _currency_field(label: Any, *, exclude: str | None = None) -> forms.ChoiceField:
    choices = [(code, name) for code, name in currency_choices() if code != exclude]
    return forms.ChoiceField(label=label, choices=[("", "—"), *choices])


class VersionMixin(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- products and price books -------------------------------------------------------------------------------


class ProductForm(VersionMixin):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Code"), max_length=50, help_text=_("Your product code or SKU; unique."))
    unit = forms.CharField(label=_("Unit"), max_length=30, required=False, help_text=_("e.g. licence, hour, piece"))
    tax_rate = _number(_("Tax rate (%)"), placeholder="0")
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label=_("Offered on new quotes"), required=False, initial=True)

    def __init__(self, *args: Any, instance: Product | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and not kwargs.get("data"):
            kwargs["initial"] = {
                "name": instance.name,
                "code": instance.code,
                "unit": instance.unit,
                "tax_rate": plain(instance.tax_rate) if instance.tax_rate else "",
                "description": instance.description,
                "is_active": instance.is_active,
                "version": instance.version,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["version"].required = True

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ("name", "code", "unit", "description", "is_active")}
        data["tax_rate"] = self.cleaned_data["tax_rate"] or "0"
        return data


class PriceBookForm(VersionMixin):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.ChoiceField(label=_("Currency"))
    is_default = forms.BooleanField(label=_("Default price book of its currency"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, instance: PriceBook | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and not kwargs.get("data"):
            kwargs["initial"] = {
                "name": instance.name,
                "currency": instance.currency,
                "is_default": instance.is_default,
                "is_active": instance.is_active,
                "version": instance.version,
            }
        super().__init__(*args, **kwargs)
        self.fields["currency"] = _currency_field(_("Currency"))
        if instance is None:
            self.initial.setdefault("currency", base_currency())
        else:
            self.fields["version"].required = True

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("name", "currency", "is_default", "is_active")}


class PriceForm(forms.Form):
    """The price of one product in a price book."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    unit_price = _number(_("Unit price"), required=True, placeholder="0.00")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        field.queryset = selectors.product_list(user=user, active=True)
        field.empty_label = _("Choose a product")


class ExchangeRateForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"))
    rate = _number(_("Rate"), required=True, placeholder="1.00")
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"] = _currency_field(_("Currency"), exclude=base_currency())
        self.fields["rate"].help_text = _("What one unit of the currency is worth in %(base)s.") % {
            "base": base_currency()
        }


# --- quotes ------------------------------------------------------------------------------------------------


class QuoteForm(VersionMixin):
    contact = forms.ModelChoiceField(label=_("To"), queryset=None, required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    currency = forms.ChoiceField(label=_("Currency"))
    price_book = forms.ModelChoiceField(label=_("Price book"), queryset=None, required=False)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    notes = forms.CharField(label=_("Notes to the customer"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, deal: Deal, instance: Quote | None = None, **kwargs: Any) -> None:
        self.instance = instance
        self.deal = deal
        if instance is not None and not kwargs.get("data"):
            kwargs["initial"] = {
                "contact": instance.contact_id,
                "title": instance.title,
                "currency": instance.currency,
                "price_book": instance.price_book_id,
                "valid_until": instance.valid_until,
                "notes": instance.notes,
                "terms": instance.terms,
                "version": instance.version,
            }
        super().__init__(*args, **kwargs)
        contact = self.fields["contact"]
        contact.queryset = selectors.quote_contact_choices(user=user, deal=deal)
        contact.empty_label = _("Nobody yet")
        self.fields["currency"] = _currency_field(_("Currency"))
        book = self.fields["price_book"]
        books = PriceBook.objects.filter(is_active=True)
        if instance is not None and instance.price_book_id:
            books = PriceBook.objects.filter(is_active=True) | PriceBook.objects.filter(pk=instance.price_book_id)
        book.queryset = books.order_by("currency", "-is_default", "name")
        book.empty_label = _("No price book")
        book.help_text = _("Products on the lines take their prices from it; it must be in the quote's currency.")
        if instance is not None:
            self.fields["version"].required = True
        else:
            self.initial.setdefault("currency", deal.currency)
            self.initial.setdefault("valid_until", timezone.localdate() + dt.timedelta(days=VALID_DAYS))
            default_book = selectors.price_book_default(currency=deal.currency)
            self.initial.setdefault("price_book", default_book.pk if default_book else None)
            first = selectors.quote_contact_choices(user=user, deal=deal).filter(deal_roles__deal=deal).first()
            self.initial.setdefault("contact", first.pk if first else None)

    def service_data(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in ("contact", "title", "currency", "price_book", "valid_until", "notes", "terms")
        }


class LineForm(forms.Form):
    """One line of a quote: a product (its price comes from the price book when the unit price is
    left empty) or a free description."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = _number(_("Quantity"), placeholder="1")
    unit_price = _number(_("Unit price"))
    discount_percent = _number(_("Discount (%)"), placeholder="0")
    tax_rate = _number(_("Tax (%)"))

    def __init__(self, *args: Any, product_choices: list[tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = product_choices

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in ("product", "description", "unit_price"))


# Each row carries its own hidden "delete" box (see partials/_line_row.html), ticked when it is removed.
LineFormSet = forms.formset_factory(
    LineForm, extra=0, can_delete=True, max_num=500, validate_max=True, absolute_max=500
)
BaseLineFormSet = forms.BaseFormSet
LINE_PREFIX = "lines"


def product_choices(*, user: Any, keep: set[int] | None = None) -> list[tuple[Any, Any]]:
    """The products a line can pick (active ones, and those already on the quote), labelled with
    their code."""
    products = selectors.product_list(user=user)
    keep = keep or set()
    rows = products.filter(is_active=True) | products.filter(pk__in=keep) if keep else products.filter(is_active=True)
    choices: list[tuple[Any, Any]] = [("", _("— Free text —"))]
    choices += [(pk, f"{name} ({code})") for pk, name, code in rows.values_list("pk", "name", "code")]
    return choices


def line_formset(
    *, user: Any, data: Any = None, quote: Quote | None = None, keep: set[int] | None = None
) -> BaseLineFormSet:
    initial = []
    kept = set(keep or set())
    if quote is not None and data is None:
        for line in selectors.quote_lines(quote=quote):
            initial.append(
                {
                    "id": line.pk,
                    "product": line.product_id or "",
                    "description": line.description,
                    "quantity": plain(line.quantity),
                    "unit_price": line.unit_price,
                    "discount_percent": plain(line.discount_percent) if line.discount_percent else "",
                    "tax_rate": plain(line.tax_rate),
                }
            )
            if line.product_id:
                kept.add(line.product_id)
    if quote is not None and data is not None:
        kept |= set(quote.lines.exclude(product=None).values_list("product_id", flat=True))
    choices = product_choices(user=user, keep=kept)
    return LineFormSet(data, prefix=LINE_PREFIX, initial=initial or None, form_kwargs={"product_choices": choices})


def line_rows(formset: BaseLineFormSet) -> tuple[list[dict[str, Any]], list[LineForm]]:
    """The lines the formset holds for the service (deleted and blank rows left out), and the form of
    each, in the same order, to put a service's error back on the right row."""
    rows: list[dict[str, Any]] = []
    forms_in_order: list[LineForm] = []
    for form in formset.forms:
        if not hasattr(form, "cleaned_data") or formset._should_delete_form(form) or form.is_blank():
            continue
        data = form.cleaned_data
        rows.append(
            {
                "id": data.get("id"),
                "product": data.get("product") or None,
                "description": data.get("description") or "",
                "quantity": data.get("quantity") or None,
                "unit_price": data.get("unit_price") or None,
                "discount_percent": data.get("discount_percent") or None,
                "tax_rate": data.get("tax_rate") or None,
            }
        )
        forms_in_order.append(form)
    return rows, forms_in_order


def apply_quote_errors(form: forms.Form, line_forms: list[LineForm], formset: Any, exc: ValidationError) -> None:
    """Put a service's errors next to the fields and lines they name."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        messages = [message for error in errors for message in error.messages]
        if key.startswith("lines."):
            parts = key.split(".")
            index = int(parts[1]) if parts[1].isdigit() else -1
            if 0 <= index < len(line_forms):
                line_form = line_forms[index]
                name = parts[2] if len(parts) > 2 and parts[2] in line_form.fields else None
                for message in messages:
                    line_form.add_error(name, message)
                continue
        if key == "lines":
            formset.line_errors = [*getattr(formset, "line_errors", []), *messages]
            continue
        target = key if key in form.fields else None
        for message in messages:
            form.add_error(target, message)


class SendForm(VersionMixin):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}))
