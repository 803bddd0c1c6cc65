"""The "Privacy" side box on a contact's page: open requests and a link to record a new one."""

from __future__ import annotations

from typing import Any

from crm.core.privacy import privacy

from .choices import RequestStatus
from .models import PrivacyRequest


def privacy_context(*, user: Any, obj: Any) -> dict[str, Any] | None:
    subject = privacy.subject_of(obj)
    if subject is None:
        return None
    requests = list(
        PrivacyRequest.objects.visible_to(user)
        .filter(subject_kind=subject.kind, subject_id=obj.pk)
        .exclude(status=RequestStatus.DONE)
        .order_by("due_at")[:5]
    )
    return {"privacy_requests": requests, "subject_key": f"{subject.kind}:{obj.pk}"}
