"""API of the catalogue and quotes: ``/api/v1/products/``, ``/api/v1/price-books/``,
``/api/v1/exchange-rates/`` and ``/api/v1/quotes/`` (with ``send``, ``accept``, ``decline`` and ``pdf``).

Writes go through the same services as the pages. Quotes are scoped like their deals; exchange rates
are read by whoever may view sales and written by administrators only.
"""

from __future__ import annotations

import json
from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.viewsets import CRMAPIMixin, ScopedModelViewSet

from ..choices import QuoteStatus
from ..models import ExchangeRate, PriceBook, PriceBookEntry, Product, Quote, QuoteLine
from . import mail, selectors, services
from .catalog import services as catalog_services
from .serializers import (
    ExchangeRateSerializer,
    PriceBookSerializer,
    ProductSerializer,
    QuoteDecisionSerializer,
    QuoteSendSerializer,
    QuoteSerializer,
)

# --- products and price books --------------------------------------------------------------------------------


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name or code contains")
    is_active = django_filters.BooleanFilter()
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")

    class Meta:
        model = Product
        fields = ["q", "is_active", "code"]

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        value = value.strip()[:100]
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset


@extend_schema_view(
    destroy=extend_schema(description="Delete a product no quote or deal uses; otherwise set `is_active` to false.")
)
class ProductViewSet(ScopedModelViewSet):
    """The product catalogue."""

    module = "sales"
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    ordering_fields = ["id", "name", "code"]
    ordering = ["name", "id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Product:
        return catalog_services.product_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Product, data: dict[str, Any], version: int) -> Product:
        return catalog_services.product_update(actor=actor, product=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Product) -> None:
        catalog_services.product_delete(actor=actor, product=instance)


class PriceBookFilterSet(django_filters.FilterSet):
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact")
    is_active = django_filters.BooleanFilter()
    is_default = django_filters.BooleanFilter()

    class Meta:
        model = PriceBook
        fields = ["currency", "is_active", "is_default"]


class PriceBookViewSet(ScopedModelViewSet):
    """Price books, one currency each, with the price of each product they hold (``entries``)."""

    module = "sales"
    queryset = PriceBook.objects.prefetch_related(
        Prefetch(
            "entries",
            queryset=PriceBookEntry.objects.select_related("product").order_by("product__name", "product_id"),
        )
    )
    serializer_class = PriceBookSerializer
    filterset_class = PriceBookFilterSet
    ordering_fields = ["id", "name", "currency"]
    ordering = ["currency", "name", "id"]

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> PriceBook:
        book = catalog_services.price_book_create(actor=actor, data=data)
        return self.base_queryset().get(pk=book.pk)  # with its prices, in order

    def update_service(self, *, actor: Any, instance: PriceBook, data: dict[str, Any], version: int) -> PriceBook:
        book = catalog_services.price_book_update(actor=actor, price_book=instance, data=data, version=version)
        return self.base_queryset().get(pk=book.pk)

    def delete_service(self, *, actor: Any, instance: PriceBook) -> None:
        catalog_services.price_book_delete(actor=actor, price_book=instance)


# --- exchange rates -------------------------------------------------------------------------------------------


class ExchangeRatePermission(permissions.BasePermission):
    """Reading: whoever may view sales (or the settings). Writing: administrators, never with a read-only token."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return selectors.can_view_rates(user)
        if getattr(getattr(request, "auth", None), "read_only", False):
            return False
        return selectors.can_manage_rates(user, "delete" if request.method == "DELETE" else "create")


class ExchangeRateFilterSet(django_filters.FilterSet):
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact")
    valid_on_or_before = django_filters.DateFilter(field_name="valid_from", lookup_expr="lte")

    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_on_or_before"]


@extend_schema_view(
    list=extend_schema(description="Every rate, newest first; filter by `currency` for one currency's history."),
    create=extend_schema(
        description="Add a rate from a day on (administrators). The company's own currency has no rate."
    ),
)
class ExchangeRateViewSet(
    CRMAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Exchange rates to the company's currency, with their history."""

    serializer_class = ExchangeRateSerializer
    permission_classes = [ExchangeRatePermission]
    filterset_class = ExchangeRateFilterSet
    ordering_fields = ["valid_from", "id"]
    ordering = ["-valid_from", "-id"]

    def get_queryset(self) -> QuerySet[ExchangeRate]:
        return selectors.exchange_rate_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = catalog_services.exchange_rate_create(
            actor=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance: ExchangeRate) -> None:
        catalog_services.exchange_rate_delete(actor=self.request.user, rate=instance)


# --- quotes --------------------------------------------------------------------------------------------------


class PdfRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data, default=str).encode()  # an error, when the client asked for a PDF


class QuoteFilterSet(django_filters.FilterSet):
    deal = django_filters.NumberFilter(field_name="deal_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    status = django_filters.ChoiceFilter(choices=QuoteStatus.choices)

    class Meta:
        model = Quote
        fields = ["deal", "contact", "status"]


@extend_schema_view(
    create=extend_schema(description="A draft quote for a deal, with its lines. The number is given by the CRM."),
    partial_update=extend_schema(
        description="Change a draft (send its `version`); `lines`, when sent, replaces the list (lines with "
        "their `id` are kept). Errors of a line are keyed `lines.<n>.<field>`."
    ),
    destroy=extend_schema(description="Delete a quote that was not accepted."),
)
class QuoteViewSet(ScopedModelViewSet):
    """Quotes, as the caller may see them (through their deals)."""

    module = "sales"
    queryset = Quote.objects.select_related("deal", "contact", "price_book").prefetch_related(
        Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id"))
    )
    serializer_class = QuoteSerializer
    filterset_class = QuoteFilterSet
    ordering_fields = ["id", "created_at", "number"]
    ordering = ["-created_at", "-id"]
    action_permissions = {"send": "edit", "accept": "edit", "decline": "edit", "pdf": "view"}

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Quote:
        return services.quote_create(actor=actor, data=data)

    def update_service(self, *, actor: Any, instance: Quote, data: dict[str, Any], version: int) -> Quote:
        return services.quote_update(actor=actor, quote=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Quote) -> None:
        services.quote_delete(actor=actor, quote=instance)

    def _respond(self, quote: Quote) -> Response:
        getattr(quote, "_prefetched_objects_cache", {}).pop("lines", None)
        return Response(QuoteSerializer(quote, context=self.get_serializer_context()).data)

    @extend_schema(request=QuoteSendSerializer, responses={200: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Email the quote's PDF to its contact; it is marked sent and the email is logged on the contact
        and the deal. Without ``subject`` or ``message``, the texts the page proposes are used."""
        quote = self.get_object()
        body = QuoteSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        quote = services.quote_send(
            actor=request.user,
            quote=quote,
            subject=values.get("subject") or mail.default_subject(quote),
            message=values.get("message") or mail.default_message(quote, request.user),
            version=values.get("version"),
        )
        return self._respond(quote)

    @extend_schema(request=QuoteDecisionSerializer, responses={200: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """The customer accepted: the quote is accepted and its deal won (one accepted quote per deal)."""
        body = QuoteDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quote = services.quote_accept(
            actor=request.user, quote=self.get_object(), version=body.validated_data.get("version")
        )
        return self._respond(quote)

    @extend_schema(request=QuoteDecisionSerializer, responses={200: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The customer declined (the deal stays open)."""
        body = QuoteDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quote = services.quote_decline(
            actor=request.user, quote=self.get_object(), version=body.validated_data.get("version")
        )
        return self._respond(quote)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The quote as a PDF (A4)."),
            404: OpenApiResponse(description="No such quote, or its deal is hidden from you."),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The quote as a PDF document."""
        quote = self.get_object()
        from .pdf import render_quote_pdf  # reportlab: loaded only when a PDF is made

        response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf", status=status.HTTP_200_OK)
        response["Content-Disposition"] = f'attachment; filename="{mail.attachment_name(quote)}"'
        return response


router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("price-books", PriceBookViewSet, basename="price-book")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rate")
router.register("quotes", QuoteViewSet, basename="quote")
