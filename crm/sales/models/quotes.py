"""Quotes: priced offers for a deal, with line items, sent to a contact as a PDF."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.models import OwnedModel

from ..choices import QuoteStatus


class Quote(OwnedModel):
    """Totals are computed by the services from the lines (Decimal, rounded half up) and stored."""

    access_module = "sales"
    access_via = ("deal",)

    number = models.CharField(_("number"), max_length=30, unique=True)
    deal = models.ForeignKey("sales.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, related_name="quotes")
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    currency = models.CharField(_("currency"), max_length=3)
    price_book = models.ForeignKey(
        "sales.PriceBook",
        verbose_name=_("price book"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes to the customer"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(_("discounts"), max_digits=14, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deal", "-created_at"], name="quote_deal_idx")]
        constraints = [models.CheckConstraint(condition=Q(status__in=QuoteStatus.values), name="quote_status_valid")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("sales:quote_detail", args=[self.pk])


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        "sales.Product", verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"), validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    line_total = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100), name="quote_line_discount_range"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="quote_line_quantity_not_negative"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.description
