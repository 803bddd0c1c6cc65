"""Demo data of web forms: one "Contact us" form, as a company would put on its website. Safe to run again."""

from __future__ import annotations

from typing import Any

from ..choices import LeadSource
from ..models import LeadForm

NAME = "Contact us"


def build(*, stdout: Any = None) -> None:
    if LeadForm.objects.filter(name=NAME).exists():
        return
    LeadForm.objects.create(
        name=NAME,
        fields=["first_name", "last_name", "email", "phone", "company_name", "country", "interest", "notes"],
        required_fields=["first_name", "last_name", "email"],
        thank_you="Thank you for getting in touch! Someone from our team will reply within one business day.",
        double_opt_in=True,
        consent_text="Yes, send me news and offers by email. I can unsubscribe at any time.",
        source=LeadSource.WEB_FORM,
    )
    if stdout is not None:
        stdout.write(f"Web form “{NAME}” added.")
