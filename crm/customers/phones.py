"""Phone numbers: parsed and validated with Google's libphonenumber, stored in E.164."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """``+86 138-1234-5678``, ``(212) 555 0100`` ... -> E.164; a clear error when it is no phone number."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if len(text) > 40:
        raise ValidationError(_("That is too long for a phone number."), code="invalid")
    try:
        parsed = phonenumbers.parse(text, region or settings.CRM_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("“%(value)s” is not a phone number."), code="invalid", params={"value": text}) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("“%(value)s” is not a valid phone number."), code="invalid", params={"value": text})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str) -> str | None:
    """E.164 for a search query that looks like a phone number, else ``None``."""
    digits = sum(ch.isdigit() for ch in raw)
    if digits < 6:
        return None
    try:
        return normalize_phone(raw)
    except ValidationError:
        return None


def display_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
