"""``{% saved_views "customers.contact" %}``: the Views menu of a list's toolbar.

It lists the views the person may apply (their own, then those their teams share, with the owner's
name), marks the one matching the current filters, and offers "Save current view…" and managing
their views. Without a list key (or an unknown one) the list is found by the page's URL name.
One query (the views); the dialog's form is loaded when it is opened.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from ..saved_views import selectors
from ..saved_views.queries import comparable_query
from ..saved_views.registry import get_list, list_for_url_name

register = template.Library()


@register.inclusion_tag("core/saved_views/_menu.html", takes_context=True)
def saved_views(context: Any, list_key: str | None = None) -> dict[str, Any]:
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return {"spec": None}
    spec = get_list(list_key)
    if spec is None:
        match = getattr(request, "resolver_match", None)
        spec = list_for_url_name(getattr(match, "view_name", None))
    if spec is None:
        return {"spec": None}
    views = list(selectors.saved_view_list(user=user, list_key=spec.key))
    current = comparable_query(spec, [(name, value) for name, values in request.GET.lists() for value in values])
    active = next((view for view in views if view.query == current), None)
    create_url = reverse("core:saved_view_create")
    return {
        "spec": spec,
        "own": [view for view in views if view.owner_id == user.pk],
        "shared": [view for view in views if view.owner_id != user.pk],
        "active": active,
        "create_url": f"{create_url}?list={spec.key}",
        "create_query": current,
        "defaults": urlencode(spec.defaults),
        "manage_url": f"{reverse('core:saved_view_list')}?list={spec.key}",
        "request": request,
    }
