"""Reads of web forms: the administrator's lists and the public lookups by key."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..models import Lead, LeadForm


def lead_form_list() -> QuerySet[LeadForm]:
    """Every web form (inactive ones too), for the administration pages and the API."""
    return LeadForm.objects.order_by("name", "id")


def lead_form_get(*, pk: Any) -> LeadForm | None:
    return lead_form_list().filter(pk=pk).first()


def lead_form_public_get(*, token: str) -> LeadForm | None:
    """The active form behind a public key; ``None`` for an unknown or inactive one."""
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return None
    return LeadForm.objects.filter(token=token, is_active=True).first()


def form_leads(*, user: Any, form: LeadForm, limit: int = 10) -> list[Lead]:
    """The newest leads a form brought in that ``user`` may see."""
    from ..leads.selectors import lead_list

    return list(
        lead_list(user=user).filter(web_form=form).select_related("owner").order_by("-created_at", "-id")[:limit]
    )


def dangerously_lead_for_consent(*, pk: Any) -> Lead | None:
    """The lead a signed confirmation link names, whoever owns it: the link itself is the permission."""
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    return Lead.objects.filter(pk=pk).first()
