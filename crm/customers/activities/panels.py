"""The boxes activities add to the company and contact 360 pages, and the home page widget.

Each ``*_context(user=, obj=)`` is registered with ``crm.core.registry`` and returns the template's
context, already scoped to the user (``obj`` is a record the user can see).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from crm.core import access

from ..choices import ActivityKind
from ..models import Company, Contact
from . import selectors
from .forms import ActivityForm, TaskForm
from .timeline import timeline_page, type_choices

MODULE = "customers"
LOG_KINDS = (
    (ActivityKind.NOTE, "ti-note"),
    (ActivityKind.CALL, "ti-phone"),
    (ActivityKind.MEETING, "ti-users"),
    (ActivityKind.EMAIL, "ti-mail"),
)
OPEN_TASKS_SHOWN = 10


def panel_key(obj: Contact | Company) -> str:
    """Identifies a record's panels on a page (element ids, and which panel a form came from)."""
    return f"{obj._meta.model_name}-{obj.pk}"


def record_for_key(*, user: Any, key: str) -> Contact | Company | None:
    """The record a panel key names, if the user can see it."""
    from .. import selectors as customer_selectors

    model, _sep, pk = key.partition("-")
    if not pk.isdigit():
        return None
    if model == "contact":
        return customer_selectors.contact_list(user=user).filter(pk=int(pk)).first()
    if model == "company":
        return customer_selectors.company_list(user=user).filter(pk=int(pk)).first()
    return None


def record_initial(obj: Contact | Company) -> dict[str, Any]:
    field = "contact" if isinstance(obj, Contact) else "company"
    return {field: obj.pk, "panel": panel_key(obj)}


def activity_form(*, user: Any, obj: Contact | Company, kind: str, data: Any = None) -> ActivityForm:
    key = panel_key(obj)
    return ActivityForm(data, user=user, kind=kind, initial=record_initial(obj), auto_id=f"id_{key}_{kind}_%s")


def task_form(*, user: Any, obj: Contact | Company, data: Any = None) -> TaskForm:
    key = panel_key(obj)
    return TaskForm(data, user=user, initial=record_initial(obj), auto_id=f"id_{key}_task_%s")


def timeline_url(obj: Contact | Company) -> str:
    return reverse(f"customers:{obj._meta.model_name}_timeline", args=[obj.pk])


def timeline_context(
    *, user: Any, obj: Contact | Company, types: list[str] | None = None, after: Any = None
) -> dict[str, Any] | None:
    """The timeline panel: activities and changes of the record, newest first, and the forms to log
    an activity or add a task."""
    if not access.can(user, MODULE, "view"):
        return None
    can_create = access.can(user, MODULE, "create")
    label = obj._meta.label_lower
    return {
        "timeline": timeline_page(user=user, obj=obj, types=types or (), after=after),
        "timeline_record": obj,
        "timeline_key": panel_key(obj),
        "timeline_model": obj._meta.model_name,
        "timeline_url": timeline_url(obj),
        "timeline_types": type_choices(user, label),
        # Only the first tab's form is built with the page; the others load when first shown.
        "log_forms": [
            (kind, ActivityKind(kind).label, icon, None if index else activity_form(user=user, obj=obj, kind=kind))
            for index, (kind, icon) in enumerate(LOG_KINDS)
        ]
        if can_create
        else [],
        "can_log_task": can_create,
    }


def open_tasks_context(*, user: Any, obj: Contact | Company) -> dict[str, Any] | None:
    """The side panel of the record's open tasks (those the user may see)."""
    if not access.can(user, MODULE, "view"):
        return None
    tasks = list(selectors.record_open_tasks(user=user, obj=obj)[: OPEN_TASKS_SHOWN + 1])
    return {
        "open_tasks": tasks[:OPEN_TASKS_SHOWN],
        "open_tasks_more": len(tasks) > OPEN_TASKS_SHOWN,
        "open_tasks_key": panel_key(obj),
        "open_tasks_record": obj,
        "open_tasks_field": obj._meta.model_name,
        "can_edit_tasks": access.can(user, MODULE, "edit"),
        "can_create_tasks": access.can(user, MODULE, "create"),
    }


def tasks_widget_context(*, user: Any) -> dict[str, Any]:
    """The home page's "My tasks" box: what is overdue and due today."""
    return {
        "counts": selectors.my_open_task_counts(user=user),
        "due": selectors.my_tasks_due_by_end_of_today(user=user, limit=6),
    }
