"""The lead fields an import can fill, and the column headers (English and Chinese) that name them.

Headers are compared the way the contact import compares them (``crm.customers.io.mapping.normalize_header``):
without case, spaces, underscores, hyphens, dots, colons and asterisks. A target's key is the name of
the lead field it fills (``owner`` takes a colleague's username or email address).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.customers.io.mapping import IGNORE, Target, normalize_header

# Order matters: it is the order of the choices on the mapping page.
LEAD_TARGETS: tuple[Target, ...] = (
    Target(
        "name", _("Full name"), ("name", "full name", "lead", "lead name", "contact name", "姓名", "全名", "联系人")
    ),
    Target("first_name", _("First name"), ("first name", "given name", "forename", "firstname", "名", "名字")),
    Target("last_name", _("Last name"), ("last name", "surname", "family name", "lastname", "姓", "姓氏")),
    Target("title", _("Job title"), ("title", "job title", "position", "role", "职位", "职务", "头衔", "岗位")),
    Target(
        "email",
        _("Email"),
        ("email", "e mail", "email address", "mail", "work email", "邮箱", "电子邮件", "电子邮箱", "邮件", "邮箱地址"),
    ),
    Target(
        "phone",
        _("Phone"),
        (
            "phone",
            "phone number",
            "telephone",
            "tel",
            "mobile",
            "mobile phone",
            "cell",
            "电话",
            "电话号码",
            "联系电话",
            "手机",
            "手机号",
            "手机号码",
        ),
    ),
    Target(
        "company_name",
        _("Company"),
        ("company", "company name", "organization", "organisation", "account", "公司", "公司名称", "单位", "企业"),
    ),
    Target("website", _("Website"), ("website", "web site", "web", "url", "homepage", "网站", "网址", "官网", "主页")),
    Target("industry", _("Industry"), ("industry", "sector", "vertical", "行业", "所属行业")),
    Target(
        "company_size",
        _("Company size"),
        ("company size", "size", "employees", "number of employees", "headcount", "规模", "公司规模", "员工人数"),
    ),
    Target("country", _("Country"), ("country", "country code", "nation", "国家", "国家/地区", "国家地区", "国别")),
    Target(
        "region",
        _("State or province"),
        ("region", "state", "province", "state or province", "county", "省份", "省", "州", "地区", "省/州"),
    ),
    Target("source", _("Source"), ("source", "lead source", "channel", "来源", "线索来源", "渠道")),
    Target("interest", _("Interest"), ("interest", "interested in", "product interest", "意向", "兴趣", "意向产品")),
    Target("notes", _("Notes"), ("notes", "note", "comment", "comments", "description", "备注", "说明", "描述")),
    Target(
        "owner",
        _("Owner"),
        ("owner", "lead owner", "assigned to", "sales rep", "负责人", "销售负责人", "所有者", "跟进人"),
    ),
)

TARGETS_BY_KEY = {target.key: target for target in LEAD_TARGETS}
# A lead needs a name; without one, lead_create takes the email address.
IDENTITY_TARGETS = ("name", "first_name", "last_name", "email")


def target_label(key: str) -> str:
    target = TARGETS_BY_KEY.get(key)
    return str(target.label) if target else key


def _synonym_index() -> dict[str, str]:
    """Normalised header -> target, from the synonyms, then from the labels in every language."""
    index: dict[str, str] = {}
    for target in LEAD_TARGETS:
        for synonym in target.synonyms:
            index.setdefault(normalize_header(synonym), target.key)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for target in LEAD_TARGETS:
                index.setdefault(normalize_header(str(target.label)), target.key)
    return index


def guess_mapping(headers: list[str]) -> list[str]:
    """The target of each column (``IGNORE`` when unknown); a target is given to its first column only."""
    index = _synonym_index()
    taken: set[str] = set()
    mapping: list[str] = []
    for header in headers:
        key = index.get(normalize_header(header), IGNORE)
        if key in taken:
            key = IGNORE
        if key:
            taken.add(key)
        mapping.append(key)
    return mapping


def target_choices() -> list[tuple[str, object]]:
    return [(IGNORE, _("— do not import —")), *((target.key, target.label) for target in LEAD_TARGETS)]


def mapping_problems(mapping: list[str]) -> list[str]:
    """What makes a mapping unusable: an unknown target, a target chosen twice, nothing naming the lead."""
    problems = []
    seen: set[str] = set()
    for key in mapping:
        if not key:
            continue
        if key not in TARGETS_BY_KEY:
            problems.append(gettext("“%(value)s” is not a field that can be imported.") % {"value": key[:60]})
        elif key in seen:
            problems.append(
                gettext("Two columns are mapped to “%(field)s”; choose one.") % {"field": target_label(key)}
            )
        seen.add(key)
    if not seen & set(IDENTITY_TARGETS):
        problems.append(gettext("Map a column to the full name, the first or last name, or the email address."))
    return problems
