"""Every write of leads: create (from a page, the API, an import or a web form), edit, delete, status,
bulk assignment, the log of what was done with a lead, and its conversion into a contact, a company
and a deal. Keyword-only, atomic, permission-checked; the journal records each change (``Lead`` is
registered in ``registration.register``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.core import access
from crm.core.crypto import masking
from crm.core.exceptions import ConflictError
from crm.core.services import notification_create
from crm.core.versioning import save_versioned
from crm.customers.choices import CompanySize
from crm.customers.models.contacts import compose_contact_name
from crm.customers.phones import normalize_phone

from ..choices import LeadStatus
from ..models import Lead
from ..models import LeadForm as WebForm
from . import assignment, conversion

MODULE = "sales"
LEAD_FIELDS = (
    "first_name",
    "last_name",
    "name",
    "title",
    "email",
    "phone",
    "company_name",
    "website",
    "industry",
    "company_size",
    "country",
    "region",
    "source",
    "status",
    "interest",
    "notes",
    "marketing_consent",
    "owner",
    "team",
)
# Set by the web forms' double opt-in (a submission, then the confirmation link), not by a person.
CONSENT_FIELDS = ("consent_requested_at", "consent_confirmed_at")
_RELATIONS = ("owner", "team", "contact", "company", "deal", "web_form", "converted_by")  # checked by the services
_TEXT_FIELDS = ("first_name", "last_name", "name", "title", "company_name", "industry", "region", "interest")


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


def _rescore(lead: Lead) -> Lead:
    """Score the lead with the active scoring rules and model (the scoring part of the module)."""
    try:
        from crm.sales.scoring.services import lead_rescore
    except ImportError:  # scoring not installed: the score stays as it is
        return lead
    return lead_rescore(lead=lead)


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    codes = (str(code) for code in Locale.parse("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha())


def check_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code and code not in _country_codes():
        raise ValidationError(_("“%(value)s” is not a country code (two letters, e.g. CN, US, DE).") % {"value": value})
    return code


def _check_website(value: str) -> str:
    text = (value or "").strip()
    if text and "://" not in text and len(text) <= 300:
        text = f"https://{text}"
    if text and urlsplit(text).scheme not in {"http", "https"}:
        raise ValidationError(_("Enter a web address starting with http:// or https://."))
    return text


def _active_user(owner: Any) -> Any:
    if owner is not None and not getattr(owner, "is_active", False):
        raise ValidationError(_("Choose an active colleague."))
    return owner


def _apply(lead: Lead, data: dict[str, Any]) -> list[str]:
    """Put ``data`` on the lead, cleaned; every problem is reported at once, by field."""
    unknown = set(data) - set(LEAD_FIELDS) - set(CONSENT_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    errors: dict[str, list[Any]] = {}
    changed: list[str] = []
    for name, value in data.items():
        try:
            if name in _TEXT_FIELDS:
                value = str(value or "").strip()
            elif name == "notes":
                value = str(value or "")
            elif name == "email":
                value = str(value or "").strip().lower()
            elif name == "phone":
                raw = str(value or "").strip()
                value = normalize_phone(raw) if raw else ""
            elif name == "website":
                value = _check_website(str(value or ""))
            elif name == "country":
                value = check_country(str(value or ""))
            elif name == "company_size":
                value = str(value or "").strip()
                if value and value not in CompanySize.values:
                    raise ValidationError(_("Choose one of the company sizes."))
            elif name == "owner":
                value = _active_user(value)
            elif name == "marketing_consent":
                value = bool(value)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            continue
        setattr(lead, name, value)
        changed.append(name)
    if {"first_name", "last_name"} & set(data) and not str(data.get("name") or "").strip():
        composed = compose_contact_name("", lead.first_name, lead.last_name)
        if composed:
            lead.name = composed
            changed.append("name")
    if not lead.name.strip() and "name" not in errors:
        if lead.email:
            lead.name = lead.email
            changed.append("name")
        else:
            errors["name"] = [_("Give the lead a name (first and last name, or the full name).")]
    try:
        lead.full_clean(exclude=[*errors, *_RELATIONS])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(changed))


def _notify_owner(lead: Lead, actor: Any) -> None:
    if lead.owner is not None and (actor is None or lead.owner_id != actor.pk):
        assignment.notify_assignee(lead=lead, owner=lead.owner)


# --- leads -----------------------------------------------------------------------------------------


@transaction.atomic
def lead_create(*, actor: Any, data: dict[str, Any], web_form: WebForm | None = None) -> Lead:
    """Create a lead. ``actor`` None means a web form's visitor (the system) created it.

    Without an owner the assignment rules choose one (else the fallback owner, else the creator).
    The lead is scored, and its owner told when it is somebody else than the creator.
    """
    if actor is not None:
        _require(actor, "create")
    data = dict(data)
    lead = Lead()
    if web_form is not None:
        lead.web_form = web_form
        lead.source = web_form.source
    if data.get("status") == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted by converting it.")})
    _apply(lead, data)
    if lead.owner_id is None:
        chosen = assignment.choose_owner(lead)
        lead.owner = chosen.owner or actor
        if lead.team_id is None:
            lead.team_id = assignment.team_for(lead.owner, chosen.rule)
    elif lead.team_id is None:
        lead.team_id = assignment.team_for(lead.owner)
    if lead.owner_id is not None:
        lead.assigned_at = timezone.now()
    lead.save()
    lead = _rescore(lead)
    _notify_owner(lead, actor)
    return lead


def _check_status_change(lead: Lead, status: Any) -> None:
    if status == lead.status:
        return
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A converted lead keeps its status.")})
    if status == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted by converting it.")})


@transaction.atomic
def lead_update(*, actor: Any, lead: Lead, data: dict[str, Any], version: int | None) -> Lead:
    """Edit a lead. A new owner starts its response time again and is told; the owner's own edit
    counts as working the lead."""
    _require(actor, "edit")
    data = masking.without_masks(data)
    if "status" in data:
        _check_status_change(lead, data["status"])
    previous_owner = lead.owner_id
    fields = _apply(lead, data)
    if lead.owner_id != previous_owner:
        lead.assigned_at = timezone.now() if lead.owner_id else None
        lead.touched_at = None
        if "team" not in data:
            lead.team_id = assignment.team_for(lead.owner)
            fields.append("team")
        fields += ["assigned_at", "touched_at"]
    elif actor is not None and actor.pk == lead.owner_id:
        lead.touched_at = timezone.now()
        fields.append("touched_at")
    save_versioned(lead, expected_version=version, update_fields=fields)
    lead = _rescore(lead)
    if lead.owner_id != previous_owner:
        _notify_owner(lead, actor)
    return lead


@transaction.atomic
def lead_delete(*, actor: Any, lead: Lead) -> None:
    """Delete a lead with what was logged about it alone (activities also about a contact or a company stay)."""
    _require(actor, "delete")
    from django.contrib.contenttypes.models import ContentType

    from crm.customers.models import Activity

    Activity.objects.filter(
        related_type=ContentType.objects.get_for_model(Lead),
        related_id=lead.pk,
        contact__isnull=True,
        company__isnull=True,
    ).delete()
    lead.delete()


@transaction.atomic
def lead_set_status(*, actor: Any, lead: Lead, status: str, version: int | None = None) -> Lead:
    """Move a lead to another status (new, contacted, qualified, unqualified); converting has its own service."""
    _require(actor, "edit")
    if status not in LeadStatus.values:
        raise ValidationError({"status": _("Choose one of the statuses.")})
    _check_status_change(lead, status)
    if status == lead.status:
        return lead
    lead.status = status
    lead.touched_at = timezone.now()
    save_versioned(lead, expected_version=version, update_fields=["status", "touched_at"])
    return _rescore(lead)


def lead_touch(*, lead: Lead, when: datetime | None = None) -> None:
    """Someone worked the lead (a call, a note, a change of status): its response clock stops."""
    lead.touched_at = when or timezone.now()
    # Bookkeeping kept out of the journal (``touched_at`` is excluded there): a plain update.
    models.QuerySet.update(Lead.objects.filter(pk=lead.pk), touched_at=lead.touched_at)


@transaction.atomic
def lead_log_activity(*, actor: Any, lead: Lead, data: dict[str, Any]) -> Any:
    """Log a note, call, meeting or email about a lead the actor may edit; it counts as working it."""
    from crm.customers.activities.services import activity_log

    _require(actor, "edit")
    activity = activity_log(actor=actor, data={**data, "related": lead})
    lead_touch(lead=lead)
    _rescore(lead)
    return activity


@transaction.atomic
def lead_bulk_assign_owner(*, actor: Any, ids: Iterable[Any], owner: Any) -> int:
    """Give the picked leads (those the actor may edit) to ``owner``; returns how many changed hands."""
    from crm.customers.bulk import clean_ids

    from .selectors import lead_list

    _require(actor, "edit")
    try:
        _active_user(owner)
    except ValidationError as exc:
        raise ValidationError({"owner": exc.messages}) from None
    if owner is None:
        raise ValidationError({"owner": _("Choose the new owner.")})
    changing = lead_list(user=actor, action="edit").filter(pk__in=clean_ids(ids)).exclude(owner=owner)
    pks = list(changing.select_related(None).order_by().values_list("pk", flat=True))
    if not pks:
        return 0
    now = timezone.now()
    # JournaledQuerySet.update records each row's old and new owner in the journal.
    count: int = Lead.objects.filter(pk__in=pks).update(
        owner=owner,
        team=assignment.team_for(owner),
        assigned_at=now,
        touched_at=None,
        version=F("version") + 1,
        updated_at=now,
    )
    if owner.pk != actor.pk:
        from django.urls import reverse

        with translation.override(getattr(owner, "language", "") or None):
            title = ngettext("%(count)d lead was assigned to you", "%(count)d leads were assigned to you", count) % {
                "count": count
            }
            url = f"{reverse('sales:lead_list')}?owner={owner.pk}&status={LeadStatus.NEW}"
            notification_create(recipient=owner, title=title, url=url)
    return count


# --- conversion ------------------------------------------------------------------------------------

CONVERTIBLE = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


def check_convertible(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError(_("This lead was already converted."), code="converted")
    if lead.status not in CONVERTIBLE:
        raise ValidationError(
            _("An unqualified lead cannot be converted. Change its status first if it deserves another look."),
            code="unqualified",
        )


@transaction.atomic
def lead_convert(
    *,
    actor: Any,
    lead: Lead,
    version: int | None = None,
    contact: Any = None,
    company: Any = None,
    new_contact: bool = False,
    new_company: bool = False,
    deal: dict[str, Any] | None = None,
) -> Lead:
    """Turn a lead into a contact, a company and (with ``deal``) a deal, in one transaction.

    Without a choice (``contact`` / ``company``, or ``new_*`` to insist on new records) the records
    the actor can see that match the lead are reused (``selectors.conversion_plan``): a contact with
    its email address or phone number, a company with its name or domain. Otherwise new ones are
    created; a company only when the lead names one. ``deal`` holds the deal's ``pipeline``,
    ``deal_name`` (default "<company> – <interest>"), ``amount``, ``currency`` and
    ``expected_close_date``. The lead becomes converted and links to what it became.
    """
    from crm.customers import selectors as customer_selectors

    from .selectors import conversion_plan

    _require(actor, "edit")
    locked = Lead.objects.visible_to(actor, action="edit").select_for_update().filter(pk=lead.pk).first()
    if locked is None:
        raise PermissionDenied
    if version is not None and locked.version != version:
        raise ConflictError(current=locked)
    check_convertible(locked)
    if deal is not None:
        _require(actor, "create")
    plan = conversion_plan(user=actor, lead=locked)
    if new_company:
        chosen_company = None
    elif company is not None:
        chosen_company = conversion.pick(actor, customer_selectors.company_list, company, "company")
    else:
        chosen_company = plan.company
    if chosen_company is None and locked.company_name.strip():
        chosen_company = conversion.new_company(actor, locked, plan.domain)
    if new_contact:
        chosen_contact = None
    elif contact is not None:
        chosen_contact = conversion.pick(actor, customer_selectors.contact_list, contact, "contact")
    else:
        chosen_contact = plan.contact
    if chosen_contact is None:
        chosen_contact = conversion.new_contact(actor, locked, chosen_company, with_deal=deal is not None)
    created_deal = (
        conversion.new_deal(actor, locked, deal, chosen_contact, chosen_company) if deal is not None else None
    )
    now = timezone.now()
    locked.status = LeadStatus.CONVERTED
    locked.converted_at = now
    locked.converted_by = actor
    locked.contact = chosen_contact
    locked.company = chosen_company
    locked.deal = created_deal
    locked.touched_at = locked.touched_at or now
    save_versioned(
        locked,
        expected_version=locked.version,
        update_fields=["status", "converted_at", "converted_by", "contact", "company", "deal", "touched_at"],
    )
    return locked
