"""Demo data of leads: about 1,500 leads over the past two years, with a seasonal swing (busy spring
and autumn, quiet summers and Chinese New Year) and a little growth.

Whether an older lead converted depends on what a scoring model can learn from: referrals, partners
and events convert more often than cold calls; business email addresses more than free ones; bigger
companies and senior titles more than small ones and juniors. About a third of the leads converted,
a fifth were unqualified, the rest are still being worked. Some leads have calls, notes and emails.
Converted leads link to the demo contacts, companies and deals when there are some.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.accounts.models import User
from crm.customers.choices import ActivityDirection, ActivityKind, CallOutcome
from crm.customers.models import Activity, Company, Contact

from ..choices import LeadSource, LeadStatus
from ..models import Deal, Lead

TOTAL = 1500
DAYS = 730
SEED = 2035
BASE_LOGIT = -2.0

# Source: (share of leads, effect on the odds of converting)
SOURCES = {
    LeadSource.REFERRAL: (0.12, 1.3),
    LeadSource.PARTNER: (0.08, 1.1),
    LeadSource.EVENT: (0.12, 0.8),
    LeadSource.WEB_FORM: (0.22, 0.2),
    LeadSource.WEBSITE: (0.14, 0.0),
    LeadSource.EMAIL: (0.10, -0.3),
    LeadSource.SOCIAL: (0.08, -0.5),
    LeadSource.COLD_CALL: (0.10, -0.9),
    LeadSource.IMPORT: (0.02, -0.6),
    LeadSource.OTHER: (0.02, -0.3),
}
SIZES = {
    "1-10": (0.25, -0.8),
    "11-50": (0.27, -0.3),
    "51-200": (0.20, 0.1),
    "201-1000": (0.14, 0.5),
    "1001-5000": (0.09, 0.8),
    "5000+": (0.05, 1.0),
}
# Title: (English, Chinese, effect)
TITLES = [
    ("CEO", "首席执行官", 0.8),
    ("Founder", "创始人", 0.8),
    ("VP Sales", "销售副总裁", 0.8),
    ("Head of Operations", "运营总监", 0.8),
    ("IT Director", "信息技术总监", 0.8),
    ("Purchasing Manager", "采购经理", 0.3),
    ("Project Manager", "项目经理", 0.3),
    ("Team Lead", "团队主管", 0.3),
    ("Engineer", "工程师", -0.2),
    ("Analyst", "分析师", -0.2),
    ("Assistant", "助理", -0.2),
    ("Student", "学生", -0.6),
]
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Logistics", "Healthcare", "Finance", "Education", "Energy"]
INTERESTS = [
    "Platform licence",
    "Support plan",
    "Onboarding",
    "Integration project",
    "Analytics add-on",
    "Training",
    "Pricing for 50 seats",
]
FIRST = ["Alice", "Ben", "Clara", "David", "Emma", "Felix", "Grace", "Hugo", "Ivy", "Jonas", "Lena", "Marco", "Nora"]
LAST = [
    "Smith",
    "Johnson",
    "Müller",
    "Brown",
    "Garcia",
    "Martin",
    "Lee",
    "Rossi",
    "Wilson",
    "Schmidt",
    "Dubois",
    "Novak",
]
CHINESE = [
    "王芳",
    "李伟",
    "张敏",
    "刘洋",
    "陈静",
    "杨磊",
    "赵丽",
    "黄强",
    "周杰",
    "吴婷",
    "徐明",
    "孙悦",
    "马超",
    "朱琳",
]
STEMS = ["Acme", "Blue River", "Northwind", "Summit", "Harbor", "Pioneer", "Evergreen", "Nova", "Vertex", "Lumen"]
CN_STEMS = ["长城", "华新", "东方", "天宇", "星辰", "博远", "瑞丰", "云帆"]
SUFFIXES = ["Ltd", "GmbH", "Inc", "Group", "Systems", "Labs"]
CN_SUFFIXES = ["科技", "集团", "贸易", "制造"]
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "gmx.de"]
CN_FREE_MAIL = ["qq.com", "163.com", "126.com"]
# Country: (share, regions, phone prefix)
COUNTRIES = {
    "US": (0.30, ["California", "New York", "Texas", "Massachusetts", "Illinois"], "+1617555"),
    "CN": (0.25, ["Shanghai", "Guangdong", "Beijing", "Zhejiang", "Sichuan"], "+86138"),
    "DE": (0.18, ["Berlin", "Bavaria", "Hamburg", "Hesse"], "+4930"),
    "GB": (0.10, ["England", "Scotland"], "+4420"),
    "FR": (0.07, ["Île-de-France", "Auvergne-Rhône-Alpes"], "+331"),
    "SG": (0.05, [""], "+656"),
    "JP": (0.05, ["Tokyo", "Osaka"], "+813"),
}
NOTES = [
    "Asked for a demo next week.",
    "Budget is planned for next quarter.",
    "Wants to compare us with their current tool.",
    "客户希望了解价格方案。",
    "Left a voicemail; will try again on Thursday.",
]
SUBJECTS = ["Introduction", "Follow-up", "Product demo", "Pricing", "报价跟进"]


def _pick(rng: random.Random, table: dict[Any, tuple[Any, ...]]) -> tuple[Any, tuple[Any, ...]]:
    roll, total = rng.random(), 0.0
    for key, row in table.items():
        total += row[0]
        if roll < total:
            return key, row
    return key, row


def _season(day: dt.date) -> float:
    """Leads arriving on a day: a spring and an autumn peak, a summer dip, a quiet Chinese New Year."""
    month = day.month
    wave = 1 + 0.3 * math.cos((month - 4) / 6 * 2 * math.pi)  # peaks in April and October
    if month in (7, 8):
        wave *= 0.75
    if month == 2:
        wave *= 0.8
    if month == 12:
        wave *= 0.85
    return wave


def _days(rng: random.Random, today: dt.date) -> list[dt.date]:
    """``TOTAL`` creation days over the past two years, by season and a gentle growth."""
    days = [today - dt.timedelta(days=offset) for offset in range(DAYS)]
    weights = [_season(day) * (1 + 0.4 * (DAYS - offset) / DAYS) for offset, day in enumerate(days)]
    return sorted(rng.choices(days, weights=weights, k=TOTAL))


def _company(rng: random.Random, country: str, index: int) -> tuple[str, str]:
    if country == "CN" and rng.random() < 0.7:
        stem, suffix = rng.choice(CN_STEMS), rng.choice(CN_SUFFIXES)
        return f"{stem}{suffix}", f"{['cw', 'hx', 'df', 'ty', 'xc', 'by', 'rf', 'yf'][CN_STEMS.index(stem)]}{index}.cn"
    stem, suffix = rng.choice(STEMS), rng.choice(SUFFIXES)
    slug = stem.lower().replace(" ", "")
    return f"{stem} {suffix}", f"{slug}{index}.example.com"


def build(*, stdout: Any = None) -> None:
    if Lead.objects.exists():
        return
    owners = list(User.objects.filter(role__builtin__in=["sales_rep", "sales_manager"], is_active=True).order_by("pk"))
    if not owners:
        return
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate()
    companies = list(Company.objects.order_by("pk")[:400])
    contacts_of: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(company__in=companies).order_by("pk"):
        if contact.company_id is not None:
            contacts_of[contact.company_id].append(contact)
    deals_of: dict[int, list[int]] = defaultdict(list)
    for company_id, deal_id in Deal.objects.filter(company__in=companies).order_by("pk").values_list("company", "pk"):
        deals_of[company_id].append(deal_id)
    linked_companies = [company for company in companies if contacts_of.get(company.pk)]

    leads: list[Lead] = []
    stamps: list[tuple[dt.datetime, int]] = []  # created_at, number of activities
    for index, day in enumerate(_days(rng, today)):
        created = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(7, 19), rng.randint(0, 59))))
        created = min(created, now)
        country, (_share, regions, prefix) = _pick(rng, COUNTRIES)
        source, (_share, source_effect) = _pick(rng, SOURCES)
        size, (_share, size_effect) = _pick(rng, SIZES)
        title_en, title_cn, title_effect = rng.choice(TITLES)
        chinese = country == "CN" and rng.random() < 0.85
        company_name, domain = _company(rng, country, index)
        business_mail = rng.random() < 0.6
        if chinese:
            name, first, last = rng.choice(CHINESE), "", ""
            local = f"contact{index}"
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            local = f"{first}.{last}".lower().replace("ü", "ue")
        mail_domain = domain if business_mail else rng.choice(CN_FREE_MAIL if country == "CN" else FREE_MAIL)
        logit = (
            BASE_LOGIT + source_effect + size_effect + title_effect + (0.9 if business_mail else 0) + rng.gauss(0, 0.5)
        )
        converts = rng.random() < 1 / (1 + math.exp(-logit))
        age = (now - created).days
        if age > 60:
            status = LeadStatus.CONVERTED if converts else (LeadStatus.UNQUALIFIED if rng.random() < 0.34 else None)
        else:
            status = LeadStatus.CONVERTED if converts and rng.random() < age / 90 else None
        if status is None:
            status = rng.choice([LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED])
        owner = rng.choice(owners)
        lead = Lead(
            first_name=first,
            last_name=last,
            name=name,
            title=title_cn if chinese else title_en,
            email=f"{local}@{mail_domain}",
            phone=f"{prefix}{rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else "",
            company_name=company_name,
            website=f"https://{domain}" if rng.random() < 0.5 else "",
            industry=rng.choice(INDUSTRIES),
            company_size=size,
            country=country,
            region=rng.choice(regions),
            source=source,
            status=status,
            interest=rng.choice(INTERESTS),
            owner=owner,
            team_id=(owner.team_ids() or [None])[0],
            marketing_consent=rng.random() < 0.4,
            assigned_at=min(now, created + dt.timedelta(minutes=rng.randint(1, 30))),
        )
        worked = status != LeadStatus.NEW
        logged = 0
        if worked:
            logged = rng.randint(1, 4) if status == LeadStatus.CONVERTED else rng.randint(0, 2)
            lead.touched_at = min(now, created + dt.timedelta(hours=rng.randint(1, 72)))
        if status == LeadStatus.CONVERTED:
            lead.converted_at = min(now, created + dt.timedelta(days=rng.randint(3, 60)))
            lead.converted_by = owner
            if linked_companies and rng.random() < 0.8:
                company = rng.choice(linked_companies)
                contact = rng.choice(contacts_of[company.pk])
                lead.company, lead.contact = company, contact
                lead.company_name = company.name
                lead.name, lead.first_name, lead.last_name = contact.name, contact.first_name, contact.last_name
                lead.email = contact.email or lead.email
                if deals_of.get(company.pk):
                    lead.deal_id = rng.choice(deals_of[company.pk])
        leads.append(lead)
        stamps.append((created, logged))

    leads = Lead.objects.bulk_create(leads, batch_size=500)
    # ``created_at`` is set on insert: move it back to when each lead came in.
    for lead, (created, _count) in zip(leads, stamps, strict=True):
        lead.created_at = created
    Lead.objects.bulk_update(leads, ["created_at"], batch_size=500)

    lead_type = ContentType.objects.get_for_model(Lead)
    activities: list[Activity] = []
    for lead, (created, count) in zip(leads, stamps, strict=True):
        for number in range(count):
            when = min(now, created + dt.timedelta(days=number * rng.randint(1, 10), hours=rng.randint(1, 48)))
            kind = rng.choice([ActivityKind.CALL, ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.NOTE])
            activity = Activity(
                kind=kind,
                owner_id=lead.owner_id,
                team_id=lead.team_id,
                occurred_at=when,
                related_type=lead_type,
                related_id=lead.pk,
                body=rng.choice(NOTES),
            )
            if kind == ActivityKind.CALL:
                activity.direction = ActivityDirection.OUTBOUND
                activity.duration = rng.randint(2, 30) * 60
                activity.outcome = rng.choice(CallOutcome.values)
            elif kind == ActivityKind.EMAIL:
                activity.subject = rng.choice(SUBJECTS)
                activity.direction = rng.choice(ActivityDirection.values)
            activities.append(activity)
    Activity.objects.bulk_create(activities, batch_size=500)
    if stdout is not None:
        converted = sum(1 for lead in leads if lead.status == LeadStatus.CONVERTED)
        stdout.write(f"  {len(leads)} leads ({converted} converted), {len(activities)} activities about them")
