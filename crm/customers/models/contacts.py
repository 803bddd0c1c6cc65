from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.crypto.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField, blind_index_index
from crm.core.models import OwnedModel

from ..choices import ChannelKind, ContactSource, LifecycleStage
from ..custom_fields.storage import CustomValuesField
from .companies import Address, Company, Tag

NAME_LENGTH = 200


# Han characters (the extensions and compatibility ideographs included) and Hangul: Chinese, Japanese
# and Korean names written family name first, without a space (王小明, 山田太郎, 김민준). Kana is left
# out: names in katakana are foreign names, written given name first (ジョン・スミス).
_FAMILY_FIRST_SCRIPT = re.compile(
    "[\u1100-\u11ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"
)
# A family name of one or two characters (王, 欧阳), a given name of one to three (芳, 小明, 太一郎): longer
# parts are a foreign name transliterated (约翰 史密斯), which keeps its order.
_FAMILY_LENGTH, _GIVEN_LENGTH = 2, 3


def compose_contact_name(full_name: str | None, first_name: str | None, last_name: str | None) -> str:
    """The name a contact is listed, searched and sorted by: the single-field name (which suits
    Chinese names) when there is one, else first and last name, family name first and without a
    space when both are written in Chinese, Japanese or Korean characters (王 + 小明: 王小明); as
    stored (at most 200 characters)."""
    if full_name and full_name.strip():
        return full_name.strip()[:NAME_LENGTH]
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if _family_first(first, last):
        return f"{last}{first}"[:NAME_LENGTH]
    return f"{first} {last}".strip()[:NAME_LENGTH]


EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def validate_birth_date(value: dt.date) -> None:
    """A date of birth between 1900 and today: anything else is a typing slip. Asked of a date being
    entered (form, API, import), not of one stored before."""
    if not EARLIEST_BIRTH_DATE <= value <= timezone.localdate():
        raise ValidationError(_("Enter a date of birth between 1900 and today."), code="implausible")


def _family_first(first: str, last: str) -> bool:
    return (
        0 < len(last) <= _FAMILY_LENGTH
        and 0 < len(first) <= _GIVEN_LENGTH
        and all(_FAMILY_FIRST_SCRIPT.match(ch) for ch in first + last)
    )


class Contact(Address, OwnedModel):
    """A person. ``name`` is what lists show and sort by: the single-field name when given (it suits
    Chinese names, 王芳), otherwise first and last name."""

    access_module = "customers"

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    full_name = models.CharField(
        _("full name"),
        max_length=200,
        blank=True,
        help_text=_("One field for the whole name, e.g. 王芳; overrides first and last name."),
    )
    name = models.CharField(_("name"), max_length=NAME_LENGTH, editable=False)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        db_index=False,  # contact_company_idx (company, name) serves it; one index less to write per contact
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    source = models.CharField(_("source"), max_length=16, choices=ContactSource.choices, blank=True)
    # Personal details, stored encrypted (crm.core.crypto): the address of a person, unlike a
    # company's, is personal data; city, region and country stay clear for territories and segments.
    street = EncryptedCharField(_("street"), max_length=200, blank=True)
    postal_code = EncryptedCharField(_("postal code"), max_length=20, blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    id_number = EncryptedCharField(
        _("identity number"),
        max_length=50,
        blank=True,
        blind_index=True,
        help_text=_("Passport, national ID or tax number; stored encrypted."),
    )
    private_notes = EncryptedTextField(
        _("private notes"),
        blank=True,
        help_text=_("Stored encrypted; shown only to roles that may view sensitive fields."),
    )
    email = models.EmailField(
        _("email"), max_length=254, blank=True, editable=False, help_text=_("The primary email address.")
    )
    phone = EncryptedCharField(
        _("phone"),
        max_length=32,
        blank=True,
        editable=False,
        blind_index=True,
        help_text=_("The primary phone number (E.164)."),
    )
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True, editable=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    custom = CustomValuesField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="contact_name_idx"),
            models.Index(Upper("name"), name="contact_name_upper_idx"),
            # pattern ops: serves "the address starts with" (the list's search box) as well as equality
            models.Index(fields=["email"], name="contact_email_prefix_idx", opclasses=["varchar_pattern_ops"]),
            blind_index_index("phone", index_name="contact_phone_bidx"),
            blind_index_index("id_number", index_name="contact_id_number_bidx"),
            models.Index(fields=["company", "name"], name="contact_company_idx"),
            models.Index(fields=["owner", "name", "id"], name="contact_owner_idx"),
            models.Index(fields=["team", "name", "id"], name="contact_team_idx"),
            models.Index(fields=["lifecycle_stage", "name", "id"], name="contact_stage_idx"),
            models.Index(fields=["-updated_at", "id"], name="contact_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:contact_detail", args=[self.pk])

    def compose_name(self) -> str:
        return compose_contact_name(self.full_name, self.first_name, self.last_name)

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.name = self.compose_name()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name", "full_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "name"}
        super().save(*args, **kwargs)


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails", verbose_name=_("contact"))
    email = models.EmailField(_("email"), max_length=254)
    kind = models.CharField(_("kind"), max_length=8, choices=ChannelKind.choices, default=ChannelKind.WORK)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["email"], name="contactemail_email_idx")]

    def __str__(self) -> str:
        return self.email


class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones", verbose_name=_("contact"))
    number = EncryptedCharField(
        _("phone number"), max_length=32, blind_index=True, help_text=_("Stored in E.164, e.g. +8613812345678.")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=ChannelKind.choices, default=ChannelKind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["-is_primary", "id"]
        indexes = [blind_index_index("number", index_name="contactphone_number_bidx")]

    def __str__(self) -> str:
        return self.number


class PastCompany(models.Model):
    """A company the contact used to work for: recorded when the contact's company changes, or by hand."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="past_companies", verbose_name=_("contact")
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="past_contacts", verbose_name=_("company")
    )
    title = models.CharField(_("job title"), max_length=150, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("past company")
        verbose_name_plural = _("past companies")
        ordering = ["-left_on", "-created_at", "-id"]
        indexes = [models.Index(fields=["company", "-created_at"], name="pastcompany_company_idx")]

    def __str__(self) -> str:
        return str(self.company)
