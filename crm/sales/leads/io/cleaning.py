"""One imported row turned into the data of ``lead_create``, and checked the way ``lead_create`` checks it.

Cells are read as people write them: a source or a company size by its code or its label in any
language (``Referral``, ``推荐``, ``11-50``, or a head count such as ``35``), a country by its
two-letter code or its name in English or Chinese, an owner by a colleague's username or email
address; a phone number without its country code is read as a number of the row's country. What
is left is checked by the lead service's own cleaning (lengths, email address, phone
number, country code, web address), so a row passes the preview exactly when ``lead_create`` takes it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db.models import Q, TextChoices
from django.utils import translation
from django.utils.translation import gettext as _

from crm.accounts import selectors as account_selectors
from crm.core.middleware import has_bad_text
from crm.customers.choices import CompanySize
from crm.customers.io.cleaning import country_lookup, fold_text, unescape_formula
from crm.customers.phones import normalize_phone

from ...choices import LeadSource
from ...models import Lead
from ..services import _apply as clean_lead
from .mapping import TARGETS_BY_KEY, target_label

# Head counts and the company size they fall in (the upper bound of each size).
_SIZE_BOUNDS = (
    (10, CompanySize.MICRO),
    (50, CompanySize.SMALL),
    (200, CompanySize.MEDIUM),
    (1000, CompanySize.LARGE),
    (5000, CompanySize.ENTERPRISE),
)
_HEAD_COUNT = re.compile(r"^[>＞]?\s*(\d[\d,]*)\s*\+?$")


@lru_cache(maxsize=4)
def _choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    """Folded value or label (in every language) -> the stored value."""
    from django.conf import settings

    lookup: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for value, label in choices.choices:
                lookup[_fold_choice(str(label))] = value
    for value in choices.values:
        lookup[_fold_choice(value)] = value
        lookup[_fold_choice(value.replace("_", " "))] = value
    return lookup


def _fold_choice(text: str) -> str:
    return fold_text(text).replace("–", "-").replace("—", "-").replace(" - ", "-")


def company_size(text: str) -> str | None:
    """``"11–50 employees"``, ``"11-50"`` or a head count (``"35"``, ``"5,000+"``) -> the size; None if unknown."""
    found = _choice_lookup(CompanySize).get(_fold_choice(text))
    if found is not None:
        return found
    match = _HEAD_COUNT.match(fold_text(text))
    if match is None:
        return None
    count = int(match.group(1).replace(",", ""))
    if count <= 0:
        return None
    if text.rstrip().endswith("+") or text.lstrip().startswith((">", "＞")):
        count += 1  # "5000+" means more than 5,000
    return next((size for bound, size in _SIZE_BOUNDS if count <= bound), CompanySize.HUGE)


def describe(exc: ValidationError) -> list[str]:
    """The service's errors as sentences for a person: ``"Email: Enter a valid email address."``."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    problems = []
    for name, messages in exc.message_dict.items():
        for message in messages:
            if name == NON_FIELD_ERRORS:
                problems.append(message)
            else:
                problems.append(_("%(field)s: %(problem)s") % {"field": _field_label(name), "problem": message})
    return problems


def _field_label(name: str) -> str:
    if name in TARGETS_BY_KEY:
        return target_label(name)
    try:
        return str(getattr(Lead._meta.get_field(name), "verbose_name", name)).capitalize()
    except FieldDoesNotExist:
        return name


def _national_phone(raw: str, country: str) -> str:
    """A number written without its country code is read as a number of the row's country
    (``138 1234 5678`` in CN); anything else is left to ``lead_create``, which reads it as usual."""
    try:
        return normalize_phone(raw, region=country)
    except ValidationError:
        return raw


class LeadRowCleaner:
    """Turns rows into lead data for one importing person; build one per import (it caches look-ups)."""

    def __init__(self, *, user: Any) -> None:
        self.user = user
        self._owners: dict[str, Any] = {}

    def data(self, values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
        """``values`` maps targets to raw cell text: the data for ``lead_create`` and the problems met.

        A lead without a source (no column, or an empty cell) gets the source "import".
        """
        data: dict[str, Any] = {}
        problems: list[str] = []
        for key, raw in values.items():
            value = unescape_formula(raw.strip())
            if not value:
                continue
            if has_bad_text(value):
                problems.append(_("%(field)s holds a NUL byte or an invalid character.") % {"field": target_label(key)})
            elif key == "source":
                self._choice(key, value, _choice_lookup(LeadSource), data, problems)
            elif key == "company_size":
                size = company_size(value)
                if size is None:
                    problems.append(
                        _("“%(value)s” is not a company size (e.g. 11-50, or the number of employees).")
                        % {"value": value[:60]}
                    )
                else:
                    data[key] = size
            elif key == "country":
                self._country(value, data, problems)
            elif key == "owner":
                self._owner(value, data, problems)
            else:
                data[key] = value
        data.setdefault("source", LeadSource.IMPORT)
        if data.get("phone") and data.get("country"):
            data["phone"] = _national_phone(str(data["phone"]), str(data["country"]))
        return data, problems

    def check(self, values: dict[str, str]) -> tuple[dict[str, Any] | None, Lead | None, list[str]]:
        """The data and an unsaved lead showing it as it would be stored, or ``None`` and every problem."""
        data, problems = self.data(values)
        lead = Lead()
        try:
            clean_lead(lead, data)  # the cells read so far, to report all of a row's problems at once
        except ValidationError as exc:
            problems.extend(describe(exc))
        if problems:
            return None, None, problems
        return data, lead, []

    @staticmethod
    def _choice(key: str, value: str, lookup: dict[str, str], data: dict[str, Any], problems: list[str]) -> None:
        found = lookup.get(_fold_choice(value))
        if found is None:
            problems.append(
                _("“%(value)s” is not a valid %(field)s.") % {"value": value[:100], "field": target_label(key).lower()}
            )
        else:
            data[key] = found

    @staticmethod
    def _country(value: str, data: dict[str, Any], problems: list[str]) -> None:
        text = value.strip()
        if len(text) == 2 and text.isascii() and text.isalpha():
            data["country"] = text.upper()  # lead_create says whether it is a real country code
            return
        code = country_lookup().get(fold_text(text))
        if code is None:
            problems.append(_("“%(value)s” is not a country; use a two-letter code such as CN.") % {"value": text[:60]})
        else:
            data["country"] = code

    def _owner(self, value: str, data: dict[str, Any], problems: list[str]) -> None:
        """A colleague by username or email address, who must be active."""
        key = value.strip().casefold()
        if key not in self._owners:
            if len(self._owners) >= 1000:  # memory stays flat whatever the file holds
                self._owners.clear()
            found = list(
                account_selectors.assignable_users(user=self.user)
                .filter(Q(username__iexact=key) | Q(email__iexact=key))
                .order_by("pk")[:2]
            )
            exact = [user for user in found if user.get_username().casefold() == key]
            self._owners[key] = exact[0] if exact else (found[0] if len(found) == 1 else None)
        owner = self._owners[key]
        if owner is None:
            problems.append(
                _("“%(value)s” is not the username or email address of an active colleague.") % {"value": value[:100]}
            )
        else:
            data["owner"] = owner
