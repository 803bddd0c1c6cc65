"""@mentions in activity texts: who is named, and telling them (only if they may see the record)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from crm.core import access
from crm.core.services import notification_create

from .markdown import plain_text

# ``@alice``, ``@li.wei``, ``@alice@example.com`` (invited users sign in with their address).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
MAX_MENTIONS = 20


def mentioned_usernames(text: str) -> list[str]:
    """The usernames mentioned in ``text``, lower-cased, in order, each once."""
    found: list[str] = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".").lower()
        if name and name not in found:
            found.append(name)
        if len(found) >= MAX_MENTIONS:
            break
    return found


def mentioned_users(text: str) -> list[Any]:
    """The active users mentioned in ``text``."""
    from crm.accounts.models import User

    names = mentioned_usernames(text)
    if not names:
        return []
    condition = Q()
    for name in names:
        condition |= Q(username__iexact=name)
    return list(User.objects.filter(condition, is_active=True).select_related("role").order_by("pk"))


def may_see(user: Any, activity: Any) -> bool:
    """Whether ``user`` may see the activity and the records it is about."""
    records = [activity, *(r for r in (activity.contact, activity.company) if r is not None)]
    return all(access.can_access_object(user, record) for record in records)


def notify_mentions(*, activity: Any, actor: Any, previous_text: str = "") -> list[Any]:
    """Tell each colleague newly mentioned in the activity's text; returns those told.

    Someone mentioned who may not see the activity or its contact or company is not told: the
    notification would lead to a page they cannot open and leak what the text says.
    """
    already = set(mentioned_usernames(previous_text))
    told = []
    for user in mentioned_users(activity.body):
        if user.username.lower() in already or user.pk == getattr(actor, "pk", None):
            continue
        if not may_see(user, activity):
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            title = _("%(actor)s mentioned you on %(record)s") % {
                "actor": str(actor) if actor is not None else _("Someone"),
                "record": str(activity.record),
            }
            notification_create(
                recipient=user,
                title=title,
                body=plain_text(activity.body, limit=200),
                url=activity.get_absolute_url(),
            )
        told.append(user)
    return told
