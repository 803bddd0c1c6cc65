"""The lead fields a web form can ask for: label, kind of input, length limit and autofill hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class FormField:
    name: str
    label: Any
    kind: str  # text, email, tel, url, textarea, country, company_size
    max_length: int
    autocomplete: str = ""


OFFERED: tuple[FormField, ...] = (
    FormField("first_name", _("First name"), "text", 100, "given-name"),
    FormField("last_name", _("Last name"), "text", 100, "family-name"),
    FormField("name", _("Full name"), "text", 200, "name"),
    FormField("email", _("Email"), "email", 254, "email"),
    FormField("phone", _("Phone"), "tel", 40, "tel"),
    FormField("company_name", _("Company"), "text", 200, "organization"),
    FormField("title", _("Job title"), "text", 100, "organization-title"),
    FormField("website", _("Website"), "url", 300, "url"),
    FormField("country", _("Country"), "country", 2, "country"),
    FormField("industry", _("Industry"), "text", 100),
    FormField("company_size", _("Company size"), "company_size", 16),
    FormField("interest", _("What are you interested in?"), "text", 200),
    FormField("notes", _("Message"), "textarea", 5000),
)
BY_NAME: dict[str, FormField] = {field.name: field for field in OFFERED}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# A lead must be reachable: every form asks for at least one of these.
CONTACT_FIELDS = ("email", "phone")

# Inputs of the public form that are not lead fields.
HONEYPOT = "fax"  # hidden from people; a bot that fills every input fills it too
STARTED = "_started"  # when the page was opened: the hosted page's signed stamp, or the snippet's clock
ELAPSED = "_elapsed"  # milliseconds between opening and sending, measured by the snippet's script
LANGUAGE = "_lang"  # the language the visitor read the form in
CONSENT = "consent"


def label_of(name: str) -> str:
    field = BY_NAME.get(name)
    return str(field.label) if field else name
