"""What the company and contact 360 pages and forms share: the panels other modules register, the
custom field values of the summary, where people used to work, and the delete confirmation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from crm.core import access
from crm.core.registry import platform
from crm.core.views.generic import ObjectActionView

from ..custom_fields import selectors as custom_field_selectors
from ..custom_fields.sensitive import shown_display
from ..custom_fields.values import Display

COLUMNS = ("main", "side", "summary")


def record_panels(request: HttpRequest, obj: Any, model_label: str) -> dict[str, list[SafeString]]:
    """The registered panels of a 360 page, rendered, by column.

    A panel of a module the user may not view is left out, as is one whose ``context()`` answers
    ``None`` (nothing to show). Each panel's context is already scoped to the user by its module.
    """
    rendered: dict[str, list[SafeString]] = {column: [] for column in COLUMNS}
    for panel in platform.panels_for(model_label):
        if not access.can(request.user, panel.module, "view"):
            continue
        context = panel.context(user=request.user, obj=obj)
        if context is None:
            continue
        html = render_to_string(panel.template, {"object": obj, "panel": panel, **context}, request=request)
        rendered[panel.column if panel.column in rendered else "main"].append(html)
    return rendered


def custom_field_items(obj: Any) -> list[tuple[Any, Display | None]]:
    """The active custom fields of a company or contact, each with its value formatted (or ``None``);
    a sensitive one masked for a viewer who may not see it."""
    definitions = custom_field_selectors.active_definitions(custom_field_selectors.entity_of(obj))
    values = obj.custom if isinstance(obj.custom, dict) else {}
    return [(definition, shown_display(obj, definition, values.get(definition.key))) for definition in definitions]


def record_permissions(user: Any) -> dict[str, bool]:
    return {
        "can_edit": access.can(user, "customers", "edit"),
        "can_delete": access.can(user, "customers", "delete"),
        "can_create": access.can(user, "customers", "create"),
    }


class RecordDeleteView(ObjectActionView):
    """GET asks "really delete?", POST deletes through the service. A record that cannot be deleted
    (still in use) stays, and its page says why."""

    module = "customers"
    permission_action = "delete"
    confirm_template = "customers/confirm_delete.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return render(request, self.confirm_template, {"object": obj, "opts": obj._meta})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            self.act(obj)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, self.success_message)
        return HttpResponseRedirect(self.get_success_url(obj))
