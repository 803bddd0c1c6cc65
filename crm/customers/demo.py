"""Demo data of the customers module: a few hundred companies and a couple of thousand contacts."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from crm.accounts.models import User

from .choices import CompanySize, ContactSource, CustomFieldKind, LifecycleStage
from .models import Company, Contact, ContactEmail, ContactPhone, CustomField, Tag

COMPANIES = 300
CONTACTS_PER_COMPANY = (3, 11)
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Logistics", "Healthcare", "Finance", "Education", "Energy"]
WESTERN = [
    ("Alice", "Smith"),
    ("Ben", "Johnson"),
    ("Clara", "Müller"),
    ("David", "Brown"),
    ("Emma", "Garcia"),
    ("Felix", "Martin"),
    ("Grace", "Lee"),
    ("Hugo", "Rossi"),
    ("Ivy", "Wilson"),
    ("Jonas", "Schmidt"),
]
CHINESE = ["王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强", "周杰", "吴婷"]
STEMS = [
    "Acme",
    "Blue River",
    "Northwind",
    "Summit",
    "Golden Gate",
    "Lotus",
    "Harbor",
    "Pioneer",
    "Evergreen",
    "Nova",
    "长城",
    "华新",
    "东方",
    "天宇",
    "星辰",
]
SUFFIXES = ["Ltd", "GmbH", "Inc", "Group", "Systems", "Trading", "科技", "集团"]
CITIES = [
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Shanghai", "CN"),
    ("Shenzhen", "CN"),
    ("Chengdu", "CN"),
    ("Boston", "US"),
    ("Austin", "US"),
]
TAGS = ["VIP", "Partner", "Newsletter", "Trade fair 2026", "At risk"]
LANGUAGES = ["English", "中文", "Deutsch"]


def _custom_fields() -> None:
    """Two custom fields, as an administrator would add them: when a company became a customer, and
    the language a contact prefers."""
    CustomField.objects.get_or_create(
        entity="company",
        key="customer_since",
        defaults={"label": "Customer since", "kind": CustomFieldKind.DATE, "position": 0},
    )
    CustomField.objects.get_or_create(
        entity="contact",
        key="preferred_language",
        defaults={
            "label": "Preferred language",
            "kind": CustomFieldKind.CHOICE,
            "choices": LANGUAGES,
            "help_text": "The language to write to this person in.",
            "position": 0,
        },
    )


def build(*, stdout: Any = None) -> None:
    if Company.objects.exists():
        return
    rng = random.Random(2026)
    owners = list(User.objects.filter(role__builtin__in=["sales_rep", "sales_manager"]).order_by("pk"))
    if not owners:
        return
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    _custom_fields()
    companies = []
    for index in range(COMPANIES):
        stem, suffix = rng.choice(STEMS), rng.choice(SUFFIXES)
        name = f"{stem} {suffix} {index + 1}" if stem.isascii() else f"{stem}{suffix}{index + 1}"
        slug = "".join(ch for ch in stem.lower() if ch.isascii() and ch.isalnum()) or "cn"
        owner = rng.choice(owners)
        city, country = rng.choice(CITIES)
        since = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(4000))
        companies.append(
            Company(
                name=name,
                industry=rng.choice(INDUSTRIES),
                size=rng.choice(CompanySize.values),
                website=f"https://{slug}{index + 1}.example.com",
                domain=f"{slug}{index + 1}.example.com",
                city=city,
                country=country,
                owner=owner,
                team=owner.teams.first(),
                custom={"customer_since": since.isoformat()} if rng.random() < 0.6 else {},
            )
        )
    companies = Company.objects.bulk_create(companies)
    contacts = []
    for company in companies:
        for number in range(rng.randint(*CONTACTS_PER_COMPANY)):
            chinese = company.country == "CN" and rng.random() < 0.8
            first, last = rng.choice(WESTERN)
            full = rng.choice(CHINESE) if chinese else ""
            contact = Contact(
                first_name="" if chinese else first,
                last_name="" if chinese else last,
                full_name=full,
                title=rng.choice(["CEO", "CTO", "Buyer", "Head of Sales", "Engineer", "采购经理"]),
                company=company,
                lifecycle_stage=rng.choice(LifecycleStage.values),
                source=rng.choice(ContactSource.values),
                owner=company.owner,
                team=company.team,
                city=company.city,
                country=company.country,
            )
            if rng.random() < 0.5:
                language = "中文" if chinese else rng.choice(LANGUAGES[::2])
                contact.custom = {"preferred_language": language}
            contact.name = contact.compose_name()
            local = f"{(first if not chinese else 'contact').lower()}.{number}"
            contact.email = f"{local}@{company.domain}"
            contact.phone = (
                f"+86138{rng.randint(10000000, 99999999)}"
                if company.country == "CN"
                else f"+1617555{rng.randint(1000, 9999)}"
            )
            contacts.append(contact)
    contacts = Contact.objects.bulk_create(contacts, batch_size=500)
    ContactEmail.objects.bulk_create(
        (ContactEmail(contact=c, email=c.email, is_primary=True) for c in contacts), batch_size=1000
    )
    ContactPhone.objects.bulk_create(
        (ContactPhone(contact=c, number=c.phone, is_primary=True) for c in contacts), batch_size=1000
    )
    for contact in rng.sample(contacts, k=min(300, len(contacts))):
        contact.tags.add(rng.choice(tags))
    if stdout is not None:
        stdout.write(f"  {len(companies)} companies, {len(contacts)} contacts")
