"""Every write of customer data: companies and contacts (with their emails, phones and tags)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.crypto import masking
from crm.core.versioning import save_versioned

from .models import Company, Contact, ContactEmail, ContactPhone, PastCompany, Tag
from .models.contacts import validate_birth_date
from .phones import normalize_phone

MODULE = "customers"
COMPANY_FIELDS = (
    "name",
    "industry",
    "size",
    "website",
    "domain",
    "phone",
    "description",
    "parent",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "owner",
    "team",
    "custom",
)
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "title",
    "company",
    "lifecycle_stage",
    "source",
    "date_of_birth",
    "id_number",
    "private_notes",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "owner",
    "team",
    "custom",
)


def form_fields(fields: tuple[str, ...]) -> list[str]:
    """The fields a page form edits: the service's writable fields (custom fields have their own
    editor) and the tags."""
    return [*(name for name in fields if name != "custom"), "tags"]


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


def _check_visible(actor: Any, obj: Any, field: str) -> None:
    """A related record the actor cannot see cannot be linked (no probing of hidden ids)."""
    if obj is not None and not type(obj).objects.visible_to(actor).filter(pk=obj.pk).exists():
        raise ValidationError({field: _("Select a valid choice.")})


def domain_from_website(website: str) -> str:
    host = urlsplit(website if "://" in website else f"https://{website}").hostname or ""
    return host.lower().removeprefix("www.")


def _apply_custom(record: Company | Contact, data: dict[str, Any]) -> bool:
    """Check the custom field values in ``data["custom"]`` by type and merge them into the record's
    (a new record gets the defaults, and must have its required fields); whether they changed.

    Errors are keyed ``custom.<key>`` (``custom`` when the value is not an object at all).
    """
    from .custom_fields import selectors as custom_field_selectors
    from .custom_fields.values import clean_values

    creating = record._state.adding
    if "custom" not in data and not creating:
        return False
    definitions = custom_field_selectors.active_definitions(custom_field_selectors.entity_of(record))
    current = record.custom if isinstance(record.custom, dict) else {}
    try:
        cleaned = clean_values(definitions, data.get("custom"), current=current, creating=creating)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError({f"custom.{key}": errors for key, errors in exc.error_dict.items()}) from None
        raise ValidationError({"custom": exc.messages}) from None
    changed = cleaned != current
    record.custom = cleaned
    return changed


# --- companies -------------------------------------------------------------------------------------


def _apply_company(company: Company, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(COMPANY_FIELDS) - {"tags"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    changed = []
    for field in COMPANY_FIELDS:
        if field in data and field != "custom":
            setattr(company, field, data[field])
            changed.append(field)
    if _apply_custom(company, data):
        changed.append("custom")
    if "phone" in data:
        raw = (company.phone or "").strip()
        try:
            company.phone = normalize_phone(raw) if raw else ""
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None
    company.domain = (company.domain or domain_from_website(company.website)).lower().strip()
    company.country = (company.country or "").upper()
    if "domain" not in changed and company.domain:
        changed.append("domain")
    return changed


def _check_parent(company: Company) -> None:
    seen = {company.pk}
    parent = company.parent
    while parent is not None:
        if parent.pk in seen:
            raise ValidationError({"parent": _("A company cannot be its own parent, directly or through others.")})
        seen.add(parent.pk)
        parent = parent.parent


@transaction.atomic
def company_create(*, actor: Any, data: dict[str, Any]) -> Company:
    _require(actor, "create")
    tags = data.pop("tags", None)
    company = Company(owner=actor)
    _apply_company(company, data)
    _check_visible(actor, company.parent, "parent")
    company.full_clean()
    company.save()
    if tags is not None:
        company.tags.set(tags)
    return company


@transaction.atomic
def company_update(*, actor: Any, company: Company, data: dict[str, Any], version: int | None) -> Company:
    _require(actor, "edit")
    data = masking.without_masks(data)
    tags = data.pop("tags", None)
    fields = _apply_company(company, data)
    _check_visible(actor, company.parent, "parent")
    _check_parent(company)
    save_versioned(company, expected_version=version, update_fields=fields)
    if tags is not None:
        company.tags.set(tags)
    return company


@transaction.atomic
def company_delete(*, actor: Any, company: Company) -> None:
    _require(actor, "delete")
    try:
        company.delete()
    except ProtectedError:
        raise ValidationError(
            _("%(name)s still has contacts or subsidiaries. Move or delete them first.") % {"name": company.name}
        ) from None


# --- contacts --------------------------------------------------------------------------------------


def _check_birth_date(contact: Contact, previous: Any) -> None:
    """A date of birth being entered must be plausible; one stored before is left as it is."""
    try:
        entered = Contact._meta.get_field("date_of_birth").to_python(contact.date_of_birth)
    except ValidationError:
        return  # not a date at all: full_clean says so
    if entered and entered != previous:
        try:
            validate_birth_date(entered)
        except ValidationError as exc:
            raise ValidationError({"date_of_birth": exc.messages}) from None


def _apply_contact(contact: Contact, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(CONTACT_FIELDS) - {"tags", "emails", "phones"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    changed = []
    previous_birth = contact.date_of_birth
    for field in CONTACT_FIELDS:
        if field in data and field != "custom":
            setattr(contact, field, data[field])
            changed.append(field)
    _check_birth_date(contact, previous_birth)
    if _apply_custom(contact, data):
        changed.append("custom")
    contact.country = (contact.country or "").upper()
    if not contact.compose_name():
        raise ValidationError({"first_name": _("Give the contact a name (first and last name, or the full name).")})
    return changed


def clean_emails(emails: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated, lower-cased, de-duplicated addresses; the first is primary unless one says so."""
    from django.core.validators import validate_email

    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in emails:
        address = str(item.get("email", "")).strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {"emails": _("“%(value)s” is not a valid email address.") % {"value": address}}
            ) from None
        if address in seen:
            continue
        seen.add(address)
        cleaned.append(
            {"email": address, "kind": item.get("kind") or "work", "is_primary": bool(item.get("is_primary"))}
        )
    _one_primary(cleaned)
    return cleaned


def clean_phones(phones: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in phones:
        raw = str(item.get("number", "")).strip()
        if not raw:
            continue
        try:
            number = normalize_phone(raw)
        except ValidationError as exc:
            raise ValidationError({"phones": exc.messages}) from None
        if number in seen:
            continue
        seen.add(number)
        cleaned.append(
            {"number": number, "kind": item.get("kind") or "mobile", "is_primary": bool(item.get("is_primary"))}
        )
    _one_primary(cleaned)
    return cleaned


def _one_primary(items: list[dict[str, Any]]) -> None:
    if items and not any(item["is_primary"] for item in items):
        items[0]["is_primary"] = True
    first = next((i for i, item in enumerate(items) if item["is_primary"]), None)
    for index, item in enumerate(items):
        item["is_primary"] = index == first


def _set_channels(
    contact: Contact, emails: list[dict[str, Any]] | None, phones: list[dict[str, Any]] | None
) -> list[str]:
    changed = []
    if emails is not None:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(ContactEmail(contact=contact, **item) for item in emails)
        contact.email = next((item["email"] for item in emails if item["is_primary"]), "")
        changed.append("email")
    if phones is not None:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(ContactPhone(contact=contact, **item) for item in phones)
        contact.phone = next((item["number"] for item in phones if item["is_primary"]), "")
        changed.append("phone")
    return changed


@transaction.atomic
def contact_create(*, actor: Any, data: dict[str, Any]) -> Contact:
    _require(actor, "create")
    tags = data.pop("tags", None)
    emails = clean_emails(data.pop("emails", []) or [])
    phones = clean_phones(data.pop("phones", []) or [])
    contact = Contact(owner=actor)
    _apply_contact(contact, data)
    _check_visible(actor, contact.company, "company")
    contact.email = next((item["email"] for item in emails if item["is_primary"]), "")
    contact.phone = next((item["number"] for item in phones if item["is_primary"]), "")
    contact.full_clean(exclude=["name"])
    contact.save()
    _set_channels(contact, emails, phones)
    if tags is not None:
        contact.tags.set(tags)
    return contact


@transaction.atomic
def contact_update(*, actor: Any, contact: Contact, data: dict[str, Any], version: int | None) -> Contact:
    _require(actor, "edit")
    data = masking.without_masks(data)
    tags = data.pop("tags", None)
    previous_company_id, previous_title = contact.company_id, contact.title
    emails = clean_emails(data.pop("emails")) if data.get("emails") is not None else None
    phones = clean_phones(data.pop("phones")) if data.get("phones") is not None else None
    data.pop("emails", None)
    data.pop("phones", None)
    fields = _apply_contact(contact, data)
    _check_visible(actor, contact.company, "company")
    fields += _set_channels(contact, emails, phones)
    save_versioned(contact, expected_version=version, update_fields=[*fields, "name"])
    if previous_company_id and previous_company_id != contact.company_id:
        PastCompany.objects.create(
            contact=contact, company_id=previous_company_id, title=previous_title, left_on=timezone.localdate()
        )
    if tags is not None:
        contact.tags.set(tags)
    return contact


@transaction.atomic
def contact_delete(*, actor: Any, contact: Contact) -> None:
    _require(actor, "delete")
    contact.delete()


@transaction.atomic
def tag_get_or_create(*, actor: Any, name: str) -> Tag:
    _require(actor, "edit")
    name = name.strip()[:50]
    if not name:
        raise ValidationError({"name": _("Give the tag a name.")})
    tag = Tag.objects.filter(name__iexact=name).first()
    return tag or Tag.objects.create(name=name)


TAG_COLOURS = ("blue", "azure", "indigo", "purple", "pink", "red", "orange", "yellow", "lime", "green", "teal", "cyan")


def _clean_tag(tag: Tag, data: dict[str, Any]) -> None:
    unknown = set(data) - {"name", "color"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    if "name" in data:
        tag.name = str(data["name"]).strip()
    if "color" in data:
        tag.color = str(data["color"])
    if not tag.name:
        raise ValidationError({"name": _("Give the tag a name.")})
    if tag.color not in TAG_COLOURS:
        raise ValidationError({"color": _("Choose one of: %(colours)s.") % {"colours": ", ".join(TAG_COLOURS)}})
    clash = Tag.objects.filter(name__iexact=tag.name).exclude(pk=tag.pk).exists()
    if clash:
        raise ValidationError({"name": _("A tag with this name already exists.")})
    tag.full_clean(validate_constraints=False)


@transaction.atomic
def tag_create(*, actor: Any, data: dict[str, Any]) -> Tag:
    _require(actor, "create")
    tag = Tag()
    _clean_tag(tag, data)
    tag.save()
    return tag


@transaction.atomic
def tag_update(*, actor: Any, tag: Tag, data: dict[str, Any]) -> Tag:
    """Renaming or recolouring a tag changes it on every record that carries it."""
    _require(actor, "edit")
    _clean_tag(tag, data)
    tag.save()
    return tag


@transaction.atomic
def tag_delete(*, actor: Any, tag: Tag) -> None:
    """Removes the tag from every record (journaled per record through the m2m signals)."""
    _require(actor, "delete")
    tag.companies.clear()
    tag.contacts.clear()
    tag.delete()
