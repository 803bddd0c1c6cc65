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
# First and family names are drawn apart, so that a couple of thousand people bear a few hundred
# different names (and a few of them the same one, as in any real address book).
WESTERN_FIRST = [
    "Alice", "Ben", "Clara", "David", "Emma", "Felix", "Grace", "Hugo", "Ivy", "Jonas",
    "Laura", "Marco", "Nina", "Oscar", "Paula", "Ravi", "Sofia", "Tom", "Ute", "Yuki",
]  # fmt: skip
WESTERN_LAST = [
    "Smith", "Johnson", "Müller", "Brown", "Garcia", "Martin", "Lee", "Rossi", "Wilson", "Schmidt",
    "Dubois", "Novak", "Kowalski", "Silva", "Jensen", "Weber", "Fischer", "Moreau", "Costa", "Berg",
]  # fmt: skip
CHINESE_FAMILY = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高"]
CHINESE_GIVEN = [
    "芳", "伟", "敏", "洋", "静", "磊", "丽", "强", "杰", "婷",
    "小明", "建国", "晓燕", "志强", "秀英", "海涛", "雪", "鹏", "慧", "子涵",
]  # fmt: skip
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
            if chinese:  # written in one field (王芳) or as family and given name
                first, last = rng.choice(CHINESE_GIVEN), rng.choice(CHINESE_FAMILY)
                full = f"{last}{first}" if rng.random() < 0.5 else ""
            else:
                first, last, full = rng.choice(WESTERN_FIRST), rng.choice(WESTERN_LAST), ""
            contact = Contact(
                first_name="" if full else first,
                last_name="" if full else last,
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
