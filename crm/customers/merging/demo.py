"""Demo data of duplicates: a company entered twice (once with its legal form, once in capitals) with a
contact entered twice, then a scan, so the duplicates page has pairs to review. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from ..models import Company, Contact, ContactEmail


def build(*, stdout: Any = None) -> None:
    from .scanning import duplicates_scan

    owner = get_user_model().objects.filter(role__builtin="sales_manager").order_by("pk").first()
    if owner is not None and not Company.objects.filter(domain="northwind.example.com").exists():
        common = {"owner": owner, "team": owner.teams.first()}
        northwind = Company.objects.create(
            name="Northwind Traders",
            website="https://northwind.example.com",
            domain="northwind.example.com",
            industry="Retail",
            city="Berlin",
            country="DE",
            **common,
        )
        Company.objects.create(
            name="Northwind Traders GmbH",
            website="https://www.northwind.example.com",
            domain="northwind.example.com",
            phone="+49301234567",
            **common,
        )
        Company.objects.create(name="NORTHWIND TRADERS", country="DE", **common)
        first = Contact.objects.create(
            first_name="Katherine", last_name="Johnson", title="Buyer", company=northwind, **common
        )
        second = Contact.objects.create(first_name="Kathrine", last_name="Johnson", company=northwind, **common)
        ContactEmail.objects.create(contact=first, email="k.johnson@northwind.example.com", is_primary=True)
        ContactEmail.objects.create(contact=second, email="kathy.johnson@example.org", is_primary=True)
        Contact.objects.filter(pk=first.pk).update(email="k.johnson@northwind.example.com")
        Contact.objects.filter(pk=second.pk).update(email="kathy.johnson@example.org")
    result = duplicates_scan()
    if stdout is not None and not result.get("skipped"):
        found = result["contacts"]["found"] + result["companies"]["found"]
        stdout.write(f"  {found} likely duplicate pairs")
