"""API shapes of products, price books (with their prices), exchange rates and quotes (with their lines).

Ranges (no negative quantity or price, discounts and tax rates from 0 to 100, rates above zero) are
the services' to check, with the same messages as the pages; the serializers check types only.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from crm.core.api.serializers import StrictFieldsMixin
from crm.customers.models import Contact

from ..deals import selectors as deal_selectors
from ..models import Deal, ExchangeRate, PriceBook, PriceBookEntry, Product, Quote, QuoteLine

NO_RANGE = {"validators": []}


class ProductSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Something you sell. ``code`` is unique (letter case aside); ``tax_rate`` in percent."""

    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "code",
            "description",
            "unit",
            "tax_rate",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "created_at", "updated_at"]
        extra_kwargs = {"code": NO_RANGE}


class PriceBookEntrySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The price of one product in the price book's currency."""

    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = PriceBookEntry
        fields = ["product", "product_code", "product_name", "unit_price"]


class PriceBookSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Prices in one currency. One price book per currency is the default (making one the default
    takes the mark from the other). ``entries``, when sent, replaces the whole list of prices."""

    entries = PriceBookEntrySerializer(many=True, required=False)

    class Meta:
        model = PriceBook
        fields = ["id", "name", "currency", "is_default", "is_active", "entries", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "version", "created_at", "updated_at"]

    def get_validators(self) -> list[Any]:
        return []  # one default per currency is the service's rule (it moves the mark)

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)
        if "entries" in values:
            values["entries"] = [dict(item) for item in values["entries"]]
        return values


class ExchangeRateSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One unit of ``currency`` is worth ``rate`` units of the company's currency from ``valid_from`` on."""

    rate = serializers.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "rate", "valid_from", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_validators(self) -> list[Any]:
        return []  # one rate per currency and day: the service says so more clearly


class QuoteLineSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A line: a ``product`` (its ``unit_price`` and ``tax_rate`` default to the price book's price and
    the product's rate) or a free ``description``. On an update, a line sent with its ``id`` is kept
    (and changed); lines left out are removed; lines without ``id`` are added."""

    id = serializers.IntegerField(required=False, allow_null=True)
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "line_total",
        ]
        read_only_fields = ["position", "line_total"]


class QuoteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A quote for a deal. ``number``, ``status`` and the totals are the CRM's (totals are computed from
    the lines, rounded half up per line); ``lines``, when sent, is the whole list. Only drafts of open
    deals can be changed. ``currency`` defaults to the deal's, ``price_book`` to the currency's default,
    ``valid_until`` to 30 days ahead."""

    deal = serializers.PrimaryKeyRelatedField(queryset=Deal.objects.none())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False)
    lines = QuoteLineSerializer(many=True, required=False)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = [
            "id",
            "number",
            "deal",
            "contact",
            "title",
            "status",
            "currency",
            "price_book",
            "valid_until",
            "terms",
            "notes",
            "lines",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "sent_at",
            "accepted_at",
            "owner",
            "team",
            "pdf_url",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "status",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "sent_at",
            "accepted_at",
            "owner",
            "team",
            "version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"title": {"required": False}, "terms": {"required": False}, "notes": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Records the caller cannot see answer like records that do not exist.
            self.fields["deal"].queryset = deal_selectors.deal_list(user=user).select_related(None)
            self.fields["contact"].queryset = Contact.objects.visible_to(user)

    def get_pdf_url(self, quote: Quote) -> str:
        return reverse("sales-api:quote-pdf", args=[quote.pk])

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)
        if "lines" in values:
            values["lines"] = [
                {k: v for k, v in dict(item).items() if v is not None or k == "product"} for item in values["lines"]
            ]
        return values


class QuoteSendSerializer(serializers.Serializer):
    """What the email says; both default to the texts the page proposes."""

    subject = serializers.CharField(max_length=200, required=False)
    message = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False, min_value=1)


class QuoteDecisionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
