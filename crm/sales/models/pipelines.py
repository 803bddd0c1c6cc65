"""Pipelines with ordered stages, and the deals that move through them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.models import OwnedModel, TimeStampedModel, VersionedModel

from ..choices import DealStatus, StageKind


class Pipeline(VersionedModel):
    """A sales process: its stages, in order. Whoever may see sales sees every pipeline."""

    access_module = "sales"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sales:board", args=[self.pk])


class Stage(VersionedModel):
    """A step of a pipeline with its default win probability; won and lost stages close a deal."""

    access_module = "sales"
    access_data_scoped = False

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    kind = models.CharField(_("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_range"),
            models.CheckConstraint(condition=Q(kind__in=StageKind.values), name="stage_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class LossReason(TimeStampedModel):
    access_module = "sales"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Competitor(TimeStampedModel):
    access_module = "sales"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100, unique=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Deal(OwnedModel):
    """A possible sale. ``status`` follows the stage's kind; ``amount`` is in ``currency``."""

    access_module = "sales"

    name = models.CharField(_("name"), max_length=200)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(_("status"), max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals",
    )
    contacts = models.ManyToManyField(
        "customers.Contact", verbose_name=_("contacts"), through="DealContact", blank=True, related_name="deals"
    )
    competitors = models.ManyToManyField(Competitor, verbose_name=_("competitors"), blank=True, related_name="deals")
    source = models.CharField(_("source"), max_length=16, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    loss_reason = models.ForeignKey(
        LossReason, verbose_name=_("loss reason"), on_delete=models.PROTECT, null=True, blank=True, related_name="deals"
    )
    lost_to = models.ForeignKey(
        Competitor,
        verbose_name=_("lost to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals_won_from_us",
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # Position of the card within its column on the board (lower first); ties by id.
    rank = models.IntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "rank", "id"], name="deal_board_idx"),
            # The list's and the API's default order, alone and after the usual status filter.
            models.Index(fields=["-created_at", "-id"], name="deal_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="deal_status_created_idx"),
            models.Index(fields=["pipeline", "status", "expected_close_date"], name="deal_pipeline_close_idx"),
            models.Index(fields=["status", "closed_on"], name="deal_closed_idx"),
            models.Index(fields=["owner", "status"], name="deal_owner_status_idx"),
            models.Index(fields=["team", "status"], name="deal_team_status_idx"),
            models.Index(fields=["company", "status"], name="deal_company_idx"),
            models.Index(fields=["name", "id"], name="deal_name_idx"),
            models.Index(Upper("name"), name="deal_name_upper_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="deal_probability_range"),
            models.CheckConstraint(condition=Q(status__in=DealStatus.values), name="deal_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sales:deal_detail", args=[self.pk])

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / Decimal(100)).quantize(Decimal("0.01"))

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            errors["stage"] = _("This stage belongs to another pipeline.")
        if errors:
            raise ValidationError(errors)


class DealContact(models.Model):
    """A contact's part in a deal (decision maker, champion, ...)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="deal_roles")
    role = models.CharField(_("role"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("deal contact")
        verbose_name_plural = _("deal contacts")
        constraints = [models.UniqueConstraint(fields=["deal", "contact"], name="deal_contact_unique")]

    def __str__(self) -> str:
        return f"{self.contact} ({self.role})" if self.role else str(self.contact)


class DealProduct(models.Model):
    """A product on a deal, with its quantity and unit price in the deal's currency."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="product_lines")
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("deal product")
        verbose_name_plural = _("deal products")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_product_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="deal_product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class DealStageChange(models.Model):
    """One move of a deal from a stage to another: who, when, from, to. Never edited."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("when"), db_index=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["deal", "-changed_at", "-id"], name="deal_stage_change_idx")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"
