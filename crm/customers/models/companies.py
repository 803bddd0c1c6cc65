from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.models import OwnedModel, TimeStampedModel

from ..choices import CompanySize
from ..custom_fields.storage import CustomValuesField


class Tag(TimeStampedModel):
    """A label on companies and contacts. Everyone who sees customers sees the tags."""

    access_module = "customers"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(_("colour"), max_length=16, default="blue")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    """Postal address fields shared by companies and contacts."""

    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("state or province"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("Two-letter code, e.g. CN, US, DE."))

    class Meta:
        abstract = True

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(part for part in (self.postal_code, self.city) if part)
        return [line for line in (self.street, city_line, self.region, self.country) if line]


class Company(Address, OwnedModel):
    access_module = "customers"

    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=16, choices=CompanySize.choices, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    domain = models.CharField(
        _("domain"), max_length=253, blank=True, help_text=_("Filled from the website if left empty.")
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidiaries",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="companies")
    custom = CustomValuesField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(Upper("name"), name="company_name_upper_idx"),
            models.Index(fields=["domain"], name="company_domain_idx"),
            models.Index(fields=["phone"], name="company_phone_idx"),
            models.Index(fields=["owner", "name"], name="company_owner_idx"),
            models.Index(fields=["team", "name"], name="company_team_idx"),
            models.Index(fields=["-updated_at", "id"], name="company_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:company_detail", args=[self.pk])
