"""Leads, the web forms that bring them in, the rules that assign them and the sales settings."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.crypto.fields import EncryptedCharField, blind_index_index
from crm.core.models import OwnedModel, TimeStampedModel, VersionedModel

from ..choices import AssignmentMethod, LeadSource, LeadStatus


def _form_token() -> str:
    return secrets.token_urlsafe(16)


class Lead(OwnedModel):
    """Someone who may buy, not yet a customer. Converting makes a contact, a company and a deal."""

    access_module = "sales"

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200, help_text=_("Full name; filled from first and last name."))
    title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = EncryptedCharField(
        _("phone"), max_length=32, blank=True, blind_index=True, help_text=_("Stored in E.164, encrypted.")
    )
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    company_size = models.CharField(_("company size"), max_length=16, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("state or province"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=LeadSource.choices, default=LeadSource.OTHER)
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    interest = models.CharField(_("interest"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    web_form = models.ForeignKey(
        "LeadForm", verbose_name=_("web form"), on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    # Scoring: the total and its parts (rules and model), with the reasons shown on the lead.
    score = models.PositiveSmallIntegerField(_("score"), default=0, validators=[MaxValueValidator(100)])
    rule_score = models.PositiveSmallIntegerField(_("rule score"), default=0)
    model_score = models.PositiveSmallIntegerField(_("predicted score"), null=True, blank=True)
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    # Marketing consent (double opt-in for web forms)
    marketing_consent = models.BooleanField(_("agreed to marketing"), default=False)
    consent_requested_at = models.DateTimeField(_("consent requested"), null=True, blank=True)
    consent_confirmed_at = models.DateTimeField(_("consent confirmed"), null=True, blank=True)
    # Assignment and follow-up
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    touched_at = models.DateTimeField(_("last worked"), null=True, blank=True)
    # Conversion
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("converted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company record"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    deal = models.ForeignKey(
        "sales.Deal", verbose_name=_("deal"), on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="lead_status_idx"),
            models.Index(fields=["owner", "status"], name="lead_owner_status_idx"),
            models.Index(fields=["team", "status"], name="lead_team_status_idx"),
            models.Index(fields=["-score", "-id"], name="lead_score_idx"),
            models.Index(fields=["name", "id"], name="lead_name_idx"),
            models.Index(Upper("name"), name="lead_name_upper_idx"),
            models.Index(fields=["email"], name="lead_email_idx"),
            blind_index_index("phone", index_name="lead_phone_bidx"),
            models.Index(fields=["source", "status"], name="lead_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="lead_score_range"),
            models.CheckConstraint(condition=Q(status__in=LeadStatus.values), name="lead_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sales:lead_detail", args=[self.pk])


class LeadForm(VersionedModel):
    """A form an administrator embeds on a website; each submission creates a lead."""

    access_module = "sales"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100)
    token = models.CharField(_("public key"), max_length=32, unique=True, default=_form_token, editable=False)
    fields = models.JSONField(_("fields"), default=list, help_text=_("Lead fields the form asks for, in order."))
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    thank_you = models.TextField(_("thank-you text"), blank=True)
    double_opt_in = models.BooleanField(
        _("double opt-in"),
        default=True,
        help_text=_("Ask for marketing consent and confirm it by an emailed link before it counts."),
    )
    consent_text = models.CharField(_("consent text"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=LeadSource.choices, default=LeadSource.WEB_FORM)
    is_active = models.BooleanField(_("active"), default=True)
    submissions = models.PositiveIntegerField(_("submissions"), default=0, editable=False)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class AssignmentRule(VersionedModel):
    """One rule of the ordered list that decides who gets a new lead; the first that matches wins.

    Empty conditions match everything. ``last_assigned`` is the round-robin cursor.
    """

    access_module = "sales"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    method = models.CharField(_("method"), max_length=16, choices=AssignmentMethod.choices)
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    countries = models.JSONField(_("countries"), default=list, blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    company_sizes = models.JSONField(_("company sizes"), default=list, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class SalesSettings(TimeStampedModel):
    """Company-wide sales settings (one row)."""

    access_module = "sales"
    access_data_scoped = False

    fallback_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fallback owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Gets new leads that no rule assigns."),
    )
    lead_response_hours = models.PositiveIntegerField(
        _("reassign untouched leads after (hours)"),
        default=48,
        help_text=_("A new lead nobody has worked within this time goes to the next person; 0 turns it off."),
    )
    stale_deal_days = models.PositiveIntegerField(_("deal is stale after (days without activity)"), default=14)
    scoring_model_weight = models.PositiveSmallIntegerField(
        _("weight of the predicted score (%)"),
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=_("How much of a lead's score comes from the model once one is trained; the rest from rules."),
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")

    def __str__(self) -> str:
        return str(_("Sales settings"))

    @classmethod
    def load(cls) -> SalesSettings:
        return cls.objects.get_or_create(pk=1)[0]
