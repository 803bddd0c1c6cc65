"""The fields an import can fill, and the column headers (English and Chinese) that name them.

A column is mapped to one *target*; the mapping page guesses each column's target from its header
and the person can change it. Headers are compared without case, spaces, underscores, hyphens,
dots, colons and asterisks, so ``E-mail``, ``email_address`` and ``邮箱 *`` all match.

Each active custom field of contacts is a target too (``cf_<key>``), guessed from its label or its key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

IGNORE = ""


@dataclass(frozen=True)
class Target:
    key: str
    label: object
    synonyms: tuple[str, ...]


# Order matters: it is the order of the choices on the mapping page.
CONTACT_TARGETS: tuple[Target, ...] = (
    Target(
        "full_name",
        _("Full name"),
        (
            "full name",
            "name",
            "contact",
            "contact name",
            "display name",
            "姓名",
            "全名",
            "联系人",
            "联系人姓名",
            "名称",
        ),
    ),
    Target("first_name", _("First name"), ("first name", "first", "given name", "forename", "firstname", "名", "名字")),
    Target("last_name", _("Last name"), ("last name", "last", "surname", "family name", "lastname", "姓", "姓氏")),
    Target(
        "email",
        _("Email"),
        (
            "email",
            "e mail",
            "email address",
            "mail",
            "work email",
            "primary email",
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
            "邮箱地址",
            "电子邮件地址",
            "email 1",
        ),
    ),
    Target(
        "email_other",
        _("Other emails"),
        ("other email", "other emails", "email 2", "secondary email", "personal email", "备用邮箱", "其他邮箱"),
    ),
    Target(
        "mobile",
        _("Mobile"),
        ("mobile", "mobile phone", "cell", "cell phone", "mobile number", "手机", "手机号", "手机号码", "移动电话"),
    ),
    Target(
        "phone",
        _("Phone"),
        (
            "phone",
            "phone number",
            "telephone",
            "tel",
            "work phone",
            "office phone",
            "电话",
            "电话号码",
            "联系电话",
            "办公电话",
            "座机",
            "固定电话",
        ),
    ),
    Target("phone_other", _("Other phones"), ("other phone", "other phones", "phone 2", "home phone", "其他电话")),
    Target(
        "title",
        _("Job title"),
        ("title", "job title", "position", "role", "job", "designation", "职位", "职务", "头衔", "岗位", "职称"),
    ),
    Target(
        "company",
        _("Company"),
        (
            "company",
            "company name",
            "organization",
            "organisation",
            "account",
            "account name",
            "employer",
            "公司",
            "公司名称",
            "单位",
            "工作单位",
            "企业",
            "企业名称",
            "组织",
            "客户名称",
        ),
    ),
    Target(
        "lifecycle_stage",
        _("Lifecycle stage"),
        ("lifecycle stage", "lifecycle", "stage", "status", "生命周期阶段", "生命周期", "阶段", "客户阶段"),
    ),
    Target("source", _("Source"), ("source", "lead source", "contact source", "来源", "客户来源", "线索来源", "渠道")),
    Target(
        "date_of_birth",
        _("Date of birth"),
        ("date of birth", "birthday", "birth date", "dob", "birthdate", "生日", "出生日期", "出生年月日"),
    ),
    Target(
        "street",
        _("Street"),
        ("street", "address", "street address", "address line 1", "地址", "街道", "详细地址", "街道地址"),
    ),
    Target("city", _("City"), ("city", "town", "城市", "市")),
    Target(
        "region",
        _("State or province"),
        ("state", "province", "region", "state or province", "county", "省", "省份", "州", "地区", "省/州"),
    ),
    Target(
        "postal_code",
        _("Postal code"),
        ("postal code", "postcode", "zip", "zip code", "邮编", "邮政编码"),
    ),
    Target("country", _("Country"), ("country", "country code", "nation", "国家", "国家/地区", "国家地区", "国别")),
)

TARGETS_BY_KEY = {target.key: target for target in CONTACT_TARGETS}
NAME_TARGETS = ("full_name", "first_name", "last_name")
CUSTOM_PREFIX = "cf_"


def custom_targets() -> tuple[Target, ...]:
    """A target for each active custom field of contacts (``cf_<key>``), after the standard ones."""
    from ..custom_fields import selectors as custom_field_selectors

    return tuple(
        Target(f"{CUSTOM_PREFIX}{definition.key}", definition.label, (definition.key, definition.label))
        for definition in custom_field_selectors.active_definitions("contact")
    )


def contact_targets() -> tuple[Target, ...]:
    """Every target of a contact import: the standard fields, then the custom fields."""
    return (*CONTACT_TARGETS, *custom_targets())


def target_label(key: str) -> str:
    """A target's label (a custom field's too), for messages and headers."""
    target = TARGETS_BY_KEY.get(key) or next((t for t in custom_targets() if t.key == key), None)
    return str(target.label) if target else key


_PUNCTUATION = re.compile(r"[\s_\-.:：*＊/()（）\[\]【】]+")


def normalize_header(text: object) -> str:
    """``" E-Mail Address* "`` -> ``"emailaddress"``; ``"邮箱（必填）"`` -> ``"邮箱必填"``."""
    value = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return _PUNCTUATION.sub("", value)


def _synonym_index() -> dict[str, str]:
    """Normalised header -> target, from the synonyms and from the labels in every language
    (so that a file exported by the CRM, in English or Chinese, maps back by itself), then from the
    custom fields' labels and keys (a standard field wins a header both claim)."""
    index: dict[str, str] = {}
    for target in CONTACT_TARGETS:
        for synonym in target.synonyms:
            index.setdefault(normalize_header(synonym), target.key)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for target in CONTACT_TARGETS:
                index.setdefault(normalize_header(str(target.label)), target.key)
    for target in custom_targets():
        for synonym in target.synonyms:
            index.setdefault(normalize_header(synonym), target.key)
    return index


def guess_mapping(headers: list[str]) -> list[str]:
    """The target of each column (``IGNORE`` when unknown); a target is given to its first column only."""
    index = _synonym_index()
    taken: set[str] = set()
    mapping: list[str] = []
    for header in headers:
        key = index.get(normalize_header(header), IGNORE)
        if key and key in taken:
            key = IGNORE
        if key:
            taken.add(key)
        mapping.append(key)
    return mapping


def target_choices() -> list[tuple[str, object]]:
    return [(IGNORE, _("— do not import —")), *((target.key, target.label) for target in contact_targets())]


def mapping_problems(mapping: list[str]) -> list[str]:
    """What makes a mapping unusable: a target chosen twice, or no column for the name."""
    from django.utils.translation import gettext as gettext_now

    problems = []
    seen: set[str] = set()
    targets = {target.key: target for target in contact_targets()}
    for key in mapping:
        if not key:
            continue
        if key not in targets:
            problems.append(gettext_now("“%(value)s” is not a field that can be imported.") % {"value": key})
        elif key in seen:
            problems.append(
                gettext_now("Two columns are mapped to “%(field)s”; choose one.") % {"field": targets[key].label}
            )
        seen.add(key)
    if not seen & set(NAME_TARGETS):
        problems.append(gettext_now("Map a column to the full name, or to the first or last name."))
    return problems
