"""What the company and contact lists share: the filter bar, sorting on indexed columns, keyset pages,
the column chooser (remembered per user in the session) and bulk actions on picked rows.

The active custom fields of the record type join the columns (``cf_<key>``), the sorts
(``?sort=cf_<key>`` / ``-cf_<key>``, paged by ``custom_fields.paging``) and the filters (added by the
FilterSet itself). A field marked sensitive is a column only, masked for a viewer who may not see it:
its values are stored encrypted, so the database can neither sort nor filter by them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View

from crm.core import access
from crm.core.htmx import render_page
from crm.core.pagination import KeysetPage, keyset_paginate
from crm.core.saved_views.registry import columns_session_key
from crm.core.views.generic import ModuleAccessMixin
from crm.core.widgets import UserSelect, UserSelectMultiple

from .. import bulk, selectors
from ..choices import CustomFieldKind, LifecycleStage
from ..countries import country_choices, country_name
from ..custom_fields import selectors as custom_field_selectors
from ..custom_fields.filters import is_refused, param, value_expression
from ..custom_fields.paging import keyset_paginate_by_value
from ..custom_fields.sensitive import shown_display
from ..forms import BulkActionForm
from ..merging import services as merge_services
from ..phones import shown_phone

MODULE = "customers"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    definition: Any = None  # the custom field shown in this column

    @property
    def custom(self) -> bool:
        return self.definition is not None


def custom_columns(entity: str) -> tuple[Column, ...]:
    """A column for each active custom field of ``entity``."""
    return tuple(
        Column(param(definition), definition.label, definition)
        for definition in custom_field_selectors.active_definitions(entity)
    )


# ?sort= value -> ordering for keyset pages (every field the same direction, ending with the id).
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
SORT_CHOICES = (
    ("name", _("Name A–Z")),
    ("-name", _("Name Z–A")),
    ("-updated", _("Recently updated")),
    ("updated", _("Least recently updated")),
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
)
DEFAULT_SORT = "name"
# How a custom field's two sort orders read, by its type (records without a value come last).
_SORT_WORDS = {
    CustomFieldKind.TEXT: (_("%(field)s A–Z"), _("%(field)s Z–A")),
    CustomFieldKind.NUMBER: (_("%(field)s, lowest first"), _("%(field)s, highest first")),
    CustomFieldKind.MONEY: (_("%(field)s, lowest first"), _("%(field)s, highest first")),
    CustomFieldKind.DATE: (_("%(field)s, earliest first"), _("%(field)s, latest first")),
    CustomFieldKind.BOOLEAN: (_("%(field)s, no first"), _("%(field)s, yes first")),
}
PAGE_PARAMS = ("after", "before")


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def session_key(model_key: str) -> str:
    return columns_session_key(f"customers.{model_key}")


class CustomerListView(ModuleAccessMixin, View):
    """A list of companies or contacts. Subclasses say what to list and which columns exist."""

    module = MODULE
    model_key: str = ""  # "contact" / "company"
    filterset_class: Any = None
    columns: tuple[Column, ...] = ()
    default_columns: tuple[str, ...] = ()
    primary_filters: tuple[str, ...] = ()
    more_filters: tuple[str, ...] = ()
    bulk_actions: tuple[str, ...] = ("assign_owner", "add_tag", "remove_tag", "delete")
    template_name = ""
    fragment_name = ""
    per_page = 25

    def get_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    phone_is_sensitive = False  # a person's phone number is; a company's switchboard is not

    def decorate(self, rows: list[Any]) -> None:
        """Attach ready-to-show values to the page's rows (formatted phone numbers, country names)."""
        for row in rows:
            row.phone_number, row.phone_display = shown_phone(row, row.phone, sensitive=self.phone_is_sensitive)
            row.country_label = country_name(row.country)

    # A company filter set outside the bar ("contacts of this company"): (parameter, chip label).
    company_chip: tuple[str, Any] | None = None

    def filter_chips(self, filterset: Any) -> list[dict[str, Any]]:
        """Filters set outside the bar, shown as removable chips."""
        if self.company_chip is None:
            return []
        param, label = self.company_chip
        company_id = filterset.form.cleaned_data.get(param) if filterset.is_bound else None
        if not company_id:
            return []
        company = selectors.company_get(user=self.request.user, pk=company_id)
        params = self.request.GET.copy()
        for name in (param, "after", "before"):
            params.pop(name, None)
        return [
            {
                "label": label,
                "value": company.name if company else _("not available"),
                "remove_url": f"{self.request.path}?{params.urlencode()}",
            }
        ]

    def all_columns(self) -> tuple[Column, ...]:
        """The standard columns, then one per active custom field."""
        return (*self.columns, *custom_columns(self.model_key))

    def chosen_columns(self) -> list[Column]:
        stored = self.request.session.get(session_key(self.model_key))
        wanted = set(stored) if isinstance(stored, list) else set(self.default_columns)
        return [column for column in self.all_columns() if column.key in wanted]

    def custom_sorts(self) -> dict[str, Column]:
        """``?sort=`` values of the custom fields (``cf_<key>``, ``-cf_<key>``) -> their column (not of
        sensitive fields)."""
        sorts: dict[str, Column] = {}
        for column in custom_columns(self.model_key):
            if column.definition.sensitive:
                continue
            sorts[column.key] = column
            sorts[f"-{column.key}"] = column
        return sorts

    def paginate(self, rows: QuerySet[Any], sort: str, custom_sorts: dict[str, Column]) -> KeysetPage:
        column = custom_sorts.get(sort)
        if column is None:
            return keyset_paginate(self.request, rows, ordering=SORTS[sort], per_page=self.per_page)
        definition = column.definition
        return keyset_paginate_by_value(
            self.request,
            rows,
            expression=value_expression(definition),
            descending=sort.startswith("-"),
            numeric=definition.kind in (CustomFieldKind.NUMBER, CustomFieldKind.MONEY),
            per_page=self.per_page,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        rows = filterset.qs
        custom_sorts = self.custom_sorts()
        sort = request.GET.get("sort", DEFAULT_SORT)
        if sort not in SORTS and sort not in custom_sorts:
            sort = DEFAULT_SORT
        columns = self.chosen_columns()
        if any(column.key == "tags" for column in columns):
            rows = rows.prefetch_related("tags")
        page = self.paginate(rows, sort, custom_sorts)
        self.decorate(page.object_list)
        self.fill_cells(page.object_list, columns)
        filtered = any(request.GET.get(name) for name in filterset.filters)
        user = request.user
        can_edit = access.can(user, MODULE, "edit")
        can_delete = access.can(user, MODULE, "delete")
        form = filterset.form
        # Each select's choices are read once (one query, no COUNT) and shared with the bulk bar; a
        # person picker renders itself (it need not list every user).
        choices = {
            name: [(value, label) for value, label in field.choices if value not in ("", None)]
            for name, field in form.fields.items()
            if hasattr(field, "choices") and not isinstance(field.widget, (UserSelect, UserSelectMultiple))
        }
        more_filters = (
            *self.more_filters,
            *(name for name, item in filterset.filters.items() if name.startswith("cf_") and not is_refused(item)),
        )
        headers = self.sort_headers(request, sort, custom_sorts)
        context = {
            "filterset": filterset,
            "primary_filters": [(form[name], choices.get(name)) for name in self.primary_filters],
            "more_filters": [(form[name], choices.get(name)) for name in more_filters],
            "tag_choices": choices.get("tag", []),
            "more_filters_open": any(request.GET.get(name) for name in more_filters),
            "more_filters_active": sum(1 for name in more_filters if request.GET.get(name)),
            "filter_chips": self.filter_chips(filterset),
            "filtered": filtered,
            "page": page,
            "paged": bool(request.GET.get("after") or request.GET.get("before")),
            "sort": sort,
            "sort_choices": self.sort_choices(custom_sorts),
            "sort_headers": headers,
            "header_cells": [(column, headers.get(column.key)) for column in columns],
            "columns": columns,
            "column_keys": {column.key for column in columns},
            "columns_url": reverse(f"customers:{self.model_key}_columns"),
            "hidden_filters": [
                (name, request.GET[name])
                for name, item in filterset.filters.items()
                if name not in self.primary_filters
                and name not in more_filters
                and not is_refused(item)
                and request.GET.get(name)
            ],
            "country_choices": country_choices(),
            "count_text": self.count_text(page.total, capped=page.total_capped),
            "bulk_actions": self.bulk_actions,
            "stage_choices": LifecycleStage.choices,
            "column_choices": [(column, column in columns) for column in self.all_columns()],
            "can_create": access.can(user, MODULE, "create"),
            "can_export": access.can(user, MODULE, "export"),
            "can_edit": can_edit,
            "can_delete": can_delete,
            "bulk": can_edit or can_delete,
            "merge_url": reverse(f"customers:{self.model_key}_merge") if can_edit and can_delete else "",
            "merge_max": merge_services.MAX_RECORDS,
            "bulk_choices": self.bulk_choices(can_edit=can_edit, can_delete=can_delete),
            "colspan": len(columns) + 2,
            "clear_url": request.path,
        }
        return render_page(request, self.template_name, context, fragment=self.fragment_name)

    def bulk_choices(self, *, can_edit: bool, can_delete: bool) -> list[tuple[str, Any]]:
        """The bulk actions this user may take here."""
        return [
            (key, label)
            for key, label in BulkActionForm.ACTIONS
            if (can_delete if key == "delete" else can_edit) and key in self.bulk_actions
        ]

    def count_text(self, total: int, *, capped: bool) -> str:
        raise NotImplementedError

    @staticmethod
    def fill_cells(rows: list[Any], columns: list[Column]) -> None:
        """Give each row its custom fields' values, formatted (sensitive ones masked for a viewer who may
        not see them), for the chosen custom columns (``row.cells``: a value per column, ``None`` for the
        standard ones)."""
        for row in rows:
            custom = row.custom if isinstance(row.custom, dict) else {}
            row.cells = [
                (
                    column,
                    shown_display(row, column.definition, custom.get(column.definition.key)) if column.custom else None,
                )
                for column in columns
            ]

    @staticmethod
    def sort_choices(custom_sorts: dict[str, Column]) -> list[tuple[str, Any]]:
        choices: list[tuple[str, Any]] = list(SORT_CHOICES)
        for value, column in custom_sorts.items():
            ascending, descending = _SORT_WORDS.get(column.definition.kind, _SORT_WORDS[CustomFieldKind.TEXT])
            template = descending if value.startswith("-") else ascending
            choices.append((value, str(template) % {"field": column.label}))
        return choices

    @staticmethod
    def sort_headers(
        request: HttpRequest, sort: str, custom_sorts: dict[str, Column] | None = None
    ) -> dict[str, dict[str, str]]:
        """Links of the sortable column headers (a second click reverses the order), and their state."""

        def url(value: str) -> str:
            params = request.GET.copy()
            for name in (*PAGE_PARAMS, "sort"):
                params.pop(name, None)
            if value != DEFAULT_SORT:
                params["sort"] = value
            return params.urlencode()

        def state(key: str) -> str:
            return "asc" if sort == key else "desc" if sort == f"-{key}" else ""

        headers = {
            "name": {"url": url("-name" if sort == "name" else "name"), "state": state("name")},
            "updated": {"url": url("updated" if sort == "-updated" else "-updated"), "state": state("updated")},
        }
        for key in custom_sorts or {}:
            if not key.startswith("-"):
                headers[key] = {"url": url(f"-{key}" if sort == key else key), "state": state(key)}
        return headers


class ColumnChoiceView(ModuleAccessMixin, View):
    """Remember which optional columns this user wants in a list (in the session; no model change)."""

    module = MODULE
    model_key = ""
    columns: tuple[Column, ...] = ()
    list_url_name = ""

    def post(self, request: HttpRequest) -> HttpResponse:
        known = [column.key for column in (*self.columns, *custom_columns(self.model_key))]
        wanted = set(request.POST.getlist("columns"))
        if request.POST.get("reset"):
            request.session.pop(session_key(self.model_key), None)
        else:
            request.session[session_key(self.model_key)] = [key for key in known if key in wanted]
        return HttpResponseRedirect(safe_next(request, reverse(self.list_url_name)))


@dataclass(frozen=True)
class BulkServices:
    """The bulk services of one model, by action."""

    assign_owner: Callable[..., int]
    add_tag: Callable[..., int]
    remove_tag: Callable[..., int]
    delete: Callable[..., int]
    set_stage: Callable[..., int] | None = None


class BulkActionView(ModuleAccessMixin, View):
    """Apply one action to the rows picked in a list; deleting asks for a confirmation first.

    The services re-scope the ids, so ids of records outside the user's scope change nothing.
    """

    module = MODULE
    model: type[Model]
    services: BulkServices
    list_url_name = ""
    confirm_template = "customers/bulk_delete_confirm.html"

    def scoped_selection(self, ids: list[int], action: str) -> QuerySet[Any]:
        raise NotImplementedError

    def done_message(self, action: str, count: int) -> str:
        raise NotImplementedError

    def confirm_title(self, count: int) -> str:
        raise NotImplementedError

    def record_detail(self, record: Any) -> str:
        """What tells a record apart from a namesake on the delete confirmation (email and company, say)."""
        raise NotImplementedError

    def post(self, request: HttpRequest) -> HttpResponse:
        back = safe_next(request, reverse(self.list_url_name))
        ids = bulk.clean_ids(request.POST.getlist("ids"))
        actions = tuple(key for key, _label in BulkActionForm.ACTIONS if key != "set_stage" or self.services.set_stage)
        form = BulkActionForm(request.POST, actions=actions)
        if not ids:
            messages.warning(request, _("Select at least one row first."))
            return HttpResponseRedirect(back)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(back)
        action = form.cleaned_data["action"]
        if action == "delete" and request.POST.get("confirm") != "1":
            return self.confirm_delete(request, ids, back)
        try:
            count = self.run(action, ids, form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, self.done_message(action, count))
        return HttpResponseRedirect(back)

    def run(self, action: str, ids: list[int], data: dict[str, Any]) -> int:
        actor = self.request.user
        services = self.services
        if action == "assign_owner":
            return services.assign_owner(actor=actor, ids=ids, owner=data["owner"])
        if action == "add_tag":
            return services.add_tag(actor=actor, ids=ids, tag=data["tag"])
        if action == "remove_tag":
            return services.remove_tag(actor=actor, ids=ids, tag=data["tag"])
        if action == "set_stage" and services.set_stage is not None:
            return services.set_stage(actor=actor, ids=ids, stage=data["lifecycle_stage"])
        if action == "delete":
            return services.delete(actor=actor, ids=ids)
        raise ValidationError(_("Unknown action."))

    def confirm_delete(self, request: HttpRequest, ids: list[int], back: str) -> HttpResponse:
        if not access.can(request.user, MODULE, "delete"):
            raise PermissionDenied
        selection = self.scoped_selection(ids, "delete")
        count = selection.count()
        context = {
            "records": [(record, self.record_detail(record)) for record in selection.order_by("name", "id")[:20]],
            "count": count,
            "ids": list(selection.values_list("pk", flat=True)),
            "back": back,
            "title": self.confirm_title(count),
            "action_url": request.path,
        }
        return render(request, self.confirm_template, context)
