"""Quote numbers: ``Q-2026-00042``, counting up within the year, unique also when two people create a
quote at the same moment."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Quote
from . import selectors

PREFIX = "Q"
ATTEMPTS = 8


def next_number(day: dt.date | None = None) -> str:
    """The next free number of the year: ``Q-2026-00042``."""
    year = (day or timezone.localdate()).year
    prefix = f"{PREFIX}-{year}-"
    last = selectors.last_quote_number(prefix=prefix)
    sequence = 0
    if last:
        try:
            sequence = int(last.removeprefix(prefix))
        except ValueError:
            sequence = 0
    return f"{prefix}{sequence + 1:05d}"


def insert_numbered(quote: Quote) -> None:
    """Save a new quote with the next number. Two quotes created at the same moment may pick the same
    number: the database refuses the second (unique number), which then takes the next one."""
    for _attempt in range(ATTEMPTS):
        quote.number = next_number()
        try:
            with transaction.atomic():
                quote.save()
            return
        except IntegrityError:
            quote.pk = None
            if not Quote.objects.filter(number=quote.number).exists():
                raise
    raise ValidationError(_("No quote number could be given: too many quotes are being made at once. Try again."))
