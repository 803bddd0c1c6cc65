"""Writes of web forms: the administrator's (create, update, deactivate, delete) and the public ones
(a submission becomes a lead; a confirmation link confirms marketing consent).

Only administrators manage forms: the permission is that of the administration pages (module
``accounts``), as for custom fields. Every write is journaled (``LeadForm`` is registered) and an
edit names the version it started from. Submissions come from people who are not users: they are
made by the system (no actor) through the leads module's ``lead_create``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm.core import access, privacy
from crm.core.versioning import save_versioned
from crm.customers.models.contacts import compose_contact_name

from ..choices import LeadSource
from ..models import Lead, LeadForm
from . import selectors
from .fields import BY_NAME, CONTACT_FIELDS, label_of

logger = logging.getLogger(__name__)

ADMIN_MODULE = "accounts"
EDITABLE = ("name", "fields", "required_fields", "thank_you", "double_opt_in", "consent_text", "source", "is_active")
NAME_MAX_LENGTH = 100
THANK_YOU_MAX_LENGTH = 2000
CONSENT_TEXT_MAX_LENGTH = 300
CONSENT_LINK_DAYS = 7
_CONSENT_SALT = "crm.sales.webforms.consent"


def can_manage(user: Any, action: str = "edit") -> bool:
    """May ``user`` manage web forms (``action``: view, create, edit, delete)?"""
    return access.can(user, ADMIN_MODULE, action)


def _require(actor: Any, action: str) -> None:
    if not can_manage(actor, action):
        raise PermissionDenied


# --- checks of a form ------------------------------------------------------------------------------------


def _check_names(value: Any, *, empty_message: str | None) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Send a list of field names."))
    names: list[str] = []
    for item in value:
        if item not in BY_NAME:
            raise ValidationError(
                _("“%(name)s” is not a field a web form can ask for. Choose among: %(known)s.")
                % {"name": item[:50], "known": ", ".join(BY_NAME)}
            )
        if item in names:
            raise ValidationError(_("“%(label)s” is listed twice.") % {"label": label_of(item)})
        names.append(item)
    if not names and empty_message:
        raise ValidationError(empty_message)
    return names


def _check_text(value: Any, limit: int, *, required: bool = False, one_line: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."))
    text = " ".join(value.split()) if one_line else "\n".join(line.rstrip() for line in value.strip().splitlines())
    if required and not text:
        raise ValidationError(_("This field is required."))
    if len(text) > limit:
        raise ValidationError(_("Enter at most %(limit)d characters.") % {"limit": limit})
    return text


def _validate(form: LeadForm) -> None:
    """The form's own rules, with every problem next to its input."""
    errors: dict[str, list[str]] = {}

    def check(name: str, clean: Any) -> None:
        try:
            setattr(form, name, clean(getattr(form, name)))
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)

    check("name", lambda value: _check_text(value, NAME_MAX_LENGTH, required=True))
    check("thank_you", lambda value: _check_text(value, THANK_YOU_MAX_LENGTH, one_line=False))
    check("consent_text", lambda value: _check_text(value, CONSENT_TEXT_MAX_LENGTH))
    check("fields", lambda value: _check_names(value, empty_message=_("Choose at least one field to ask for.")))
    check("required_fields", lambda value: _check_names(value, empty_message=None))
    if form.source not in LeadSource.values:
        errors["source"] = [_("Choose one of the sources.")]
    for name in ("double_opt_in", "is_active"):
        if not isinstance(getattr(form, name), bool):
            errors[name] = [_("Choose yes or no.")]
    if "fields" not in errors:
        if not any(name in form.fields for name in CONTACT_FIELDS):
            errors["fields"] = [_("Ask for an email address or a phone number, or nobody can reply to the lead.")]
        if "required_fields" not in errors:
            missing = [name for name in form.required_fields if name not in form.fields]
            if missing:
                errors["required_fields"] = [
                    _("%(fields)s cannot be required: the form does not ask for it.")
                    % {"fields": ", ".join(f"“{label_of(name)}”" for name in missing)}
                ]
            else:
                # Required fields keep the order of the form.
                form.required_fields = [name for name in form.fields if name in form.required_fields]
        if form.double_opt_in is True and "email" not in form.fields:
            errors["double_opt_in"] = [
                _("Double opt-in confirms consent by email: add the email field to the form, or turn it off.")
            ]
    if errors:
        raise ValidationError(errors)


# --- the administrator's writes -----------------------------------------------------------------------------


@transaction.atomic
def lead_form_create(*, actor: Any, data: dict[str, Any]) -> LeadForm:
    _require(actor, "create")
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in unknown})
    form = LeadForm(
        name=data.get("name", ""),
        fields=data.get("fields", []),
        required_fields=data.get("required_fields", []),
        thank_you=data.get("thank_you", ""),
        double_opt_in=data.get("double_opt_in", True),
        consent_text=data.get("consent_text", ""),
        source=data.get("source") or LeadSource.WEB_FORM,
        is_active=data.get("is_active", True),
    )
    _validate(form)
    form.full_clean()
    form.save()
    return form


@transaction.atomic
def lead_form_update(*, actor: Any, form: LeadForm, data: dict[str, Any], version: int | None) -> LeadForm:
    """Change a form. Its public key never changes, so embedded copies keep working."""
    _require(actor, "edit")
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in unknown})
    changed = [name for name in EDITABLE if name in data]
    for name in changed:
        setattr(form, name, data[name])
    _validate(form)
    save_versioned(form, expected_version=version, update_fields=[*changed, "required_fields"])
    return form


@transaction.atomic
def lead_form_set_active(*, actor: Any, form: LeadForm, active: bool, version: int | None = None) -> LeadForm:
    """Stop taking submissions (the page and the endpoint answer "not found"), or take them again."""
    _require(actor, "edit")
    if form.is_active != active:
        form.is_active = active
        save_versioned(form, expected_version=version, update_fields=["is_active"])
    return form


@transaction.atomic
def lead_form_delete(*, actor: Any, form: LeadForm) -> None:
    """Delete a form; the leads it brought in are kept (they no longer name a form)."""
    _require(actor, "delete")
    form.delete()


# --- submissions ------------------------------------------------------------------------------------------------


def _lead_name(values: dict[str, str]) -> str:
    full = compose_contact_name("", values.get("first_name"), values.get("last_name"))
    return values.get("name") or full or values.get("email") or values.get("phone") or str(_("Web form visitor"))


@transaction.atomic
def web_form_submit(*, form: LeadForm, data: dict[str, Any], consent: bool = False, request: Any = None) -> Lead:
    """A visitor's submission: one new lead (assigned, scored and its owner notified by ``lead_create``),
    the form's counter, and marketing consent: asked for by email on double opt-in forms, given at
    once on the others."""
    from ..leads.services import lead_create

    values = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in data.items()
        if name in form.fields and value not in (None, "")
    }
    if consent and privacy.is_suppressed(str(values.get("email") or "")):
        consent = False  # an erased person's address is not signed up for marketing again
    if consent and form.double_opt_in and not values.get("email"):
        raise ValidationError({"email": [_("Enter your email address: we send the confirmation there.")]})
    values["name"] = _lead_name(values)[:200]
    values["source"] = form.source
    now = timezone.now()
    if consent and form.double_opt_in:
        values["consent_requested_at"] = now
    elif consent:
        values.update(marketing_consent=True, consent_confirmed_at=now)
    lead = lead_create(actor=None, data=values, web_form=form)
    models.QuerySet.update(LeadForm.objects.filter(pk=form.pk), submissions=F("submissions") + 1)
    if consent and form.double_opt_in:
        url = consent_url(lead, request=request)
        language = translation.get_language() or settings.LANGUAGE_CODE
        transaction.on_commit(lambda: _send_consent_email(lead=lead, form=form, url=url, language=language))
    return lead


def _email_check(email: str) -> str:
    """A short keyed digest of the address: the link names it without showing it."""
    return salted_hmac(_CONSENT_SALT, email.strip().casefold()).hexdigest()[:20]


def consent_token(lead: Lead) -> str:
    return signing.dumps({"l": lead.pk, "e": _email_check(lead.email)}, salt=_CONSENT_SALT)


def consent_url(lead: Lead, *, request: Any = None) -> str:
    from crm.accounts.services import absolute_url

    path = reverse("sales:web_form_consent", args=[consent_token(lead)])
    language = translation.get_language()
    if language:
        path += "?" + urlencode({"lang": language})
    if settings.CRM_BASE_URL:
        return settings.CRM_BASE_URL + path
    return absolute_url(path, request)


def _send_consent_email(*, lead: Lead, form: LeadForm, url: str, language: str) -> None:
    with translation.override(language):
        subject = _("Please confirm that you would like to hear from us")
        body = render_to_string(
            "sales/webforms/consent_email.txt",
            {"lead": lead, "form": form, "url": url, "days": CONSENT_LINK_DAYS},
        )
    try:
        send_mail(subject, body, None, [lead.email])
    except Exception:  # the lead is saved; a mail server being down must not fail the visitor's submission
        logger.exception("Could not send the consent confirmation of lead %s", lead.pk)


def lead_for_consent_token(*, token: str) -> Lead:
    """The lead a confirmation link names (valid for seven days), or a ValidationError saying why not.

    Reading the link changes nothing: mail scanners open links by themselves, so consent is only
    given by the button on the page the link opens (``lead_consent_confirm``)."""
    try:
        payload = signing.loads(token, salt=_CONSENT_SALT, max_age=dt.timedelta(days=CONSENT_LINK_DAYS))
    except signing.SignatureExpired:
        raise ValidationError(
            _(
                "This confirmation link has expired: links are valid for %(days)d days. "
                "Send the form again to get a new one."
            )
            % {"days": CONSENT_LINK_DAYS},
            code="expired",
        ) from None
    except signing.BadSignature:
        raise ValidationError(
            _("This confirmation link is not valid. Check that you opened the whole link from the email."),
            code="invalid",
        ) from None
    lead = selectors.dangerously_lead_for_consent(pk=payload.get("l") if isinstance(payload, dict) else None)
    if (
        lead is None
        or lead.consent_requested_at is None
        or not constant_time_compare(_email_check(lead.email), str(payload.get("e", "")))
    ):
        raise ValidationError(_("This confirmation link is no longer valid."), code="gone")
    return lead


@transaction.atomic
def lead_consent_confirm(*, token: str) -> Lead:
    """Confirm the marketing consent a confirmation link names. Confirming twice changes nothing more;
    a consent confirmed once and withdrawn later is not given again."""
    lead = lead_for_consent_token(token=token)
    if lead.consent_confirmed_at is not None:
        return lead
    lead.marketing_consent = True
    lead.consent_confirmed_at = timezone.now()
    save_versioned(lead, expected_version=None, update_fields=["marketing_consent", "consent_confirmed_at"])
    return lead
