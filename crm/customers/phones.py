"""Phone numbers: parsed and validated with Google's libphonenumber, stored in E.164."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.core.crypto import masking


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
        if text.startswith(("+", "00")):
            raise ValidationError(_("“%(value)s” is not a valid phone number."), code="invalid", params={"value": text})
        # Read as a number of the default region: it may be another country's, written without its code.
        from .countries import country_name

        home = (region or settings.CRM_PHONE_REGION or "").upper()
        raise ValidationError(
            _(
                "“%(value)s” is not a valid phone number in %(region)s; write a number of another country "
                "with its country code, e.g. %(example)s."
            ),
            code="invalid",
            params={
                "value": text,
                "region": country_name(home) or home,
                "example": "+1 212 555 0100" if home == "CN" else "+86 138 0013 8000",
            },
        )
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


def shown_phone(record: Any, number: str, *, sensitive: bool = True) -> tuple[str, str]:
    """A phone number as the viewer may see it: (the E.164 number or the mask, the formatted number or
    ``""``), for ``customers/partials/_phone_link.html``. A person's number is ``sensitive``; a
    company's switchboard is not."""
    shown = masking.shown(record, number) if sensitive else number
    return shown, display_phone(number) if shown and not masking.is_masked(shown) else ""
