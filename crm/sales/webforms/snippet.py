"""The HTML snippet an administrator copies onto any website, and the public addresses of a form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from ..models import LeadForm
from .fields import BY_NAME, CONSENT, ELAPSED, HONEYPOT, LANGUAGE, STARTED
from .forms import choices_of, consent_label, required_names, shows_consent


def public_base(request: Any = None) -> str:
    """Where visitors reach the CRM: ``CRM_BASE_URL``, or the address this request came to."""
    if settings.CRM_BASE_URL:
        return str(settings.CRM_BASE_URL)
    if request is not None:
        return str(request.build_absolute_uri("/")).rstrip("/")
    return "http://127.0.0.1:8000"


def page_url(form: LeadForm, request: Any = None) -> str:
    return public_base(request) + reverse("sales:web_form_page", args=[form.token])


def submit_url(form: LeadForm, request: Any = None) -> str:
    return public_base(request) + reverse("sales:web_form_submit", args=[form.token])


def language_of(code: str | None) -> str:
    """A language the CRM speaks (``code`` when it is one, else the current one)."""
    available = {language for language, _name in settings.LANGUAGES}
    if code in available:
        return str(code)
    current = translation.get_language() or settings.LANGUAGE_CODE
    return current if current in available else settings.LANGUAGE_CODE


def embed_snippet(form: LeadForm, *, request: Any = None, language: str | None = None) -> str:
    """A self-contained ``<form>`` posting to the public endpoint, with labels in ``language``: the
    fields in order, a honeypot input hidden by inline style, the time the page was opened (filled by
    a short inline script), and the consent box where the form has one."""
    language = language_of(language)
    with translation.override(language):
        required = required_names(form)
        rows = []
        for name in form.fields or []:
            field = BY_NAME.get(name)
            if field is None:
                continue
            rows.append(
                {
                    "field": field,
                    "id": f"crm-{form.pk}-{name}",
                    "required": name in required,
                    "choices": choices_of(field),
                }
            )
        context = {
            "form": form,
            "rows": rows,
            "action": submit_url(form, request),
            "language": language,
            "consent": consent_label(form) if shows_consent(form) else "",
            "names": {
                "honeypot": HONEYPOT,
                "started": STARTED,
                "elapsed": ELAPSED,
                "language": LANGUAGE,
                "consent": CONSENT,
            },
        }
        return render_to_string("sales/webforms/embed.html", context).strip()
