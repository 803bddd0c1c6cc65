"""Pages of duplicates: the list of likely pairs (and the merge history), dismissing a pair, starting a
scan, the warning on the create and edit forms, the merge screen and undo."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from crm.core import access
from crm.core import selectors as core_selectors
from crm.core.crypto import masking
from crm.core.exceptions import ConflictError
from crm.core.htmx import wants_fragment
from crm.core.pagination import keyset_paginate
from crm.core.views.generic import ModuleAccessMixin

from ..choices import DuplicateStatus
from ..custom_fields.selectors import labels_by_key, sensitive_keys
from ..phones import display_phone, shown_phone
from ..views.listing import safe_next
from . import scanning, selectors, services
from .fields import CUSTOM_PREFIX, ENTITIES, Part, custom_keys, has_custom, is_channel, parts_of
from .forms import MergeForm, choice_name

MODULE = "customers"
REASONS = {
    "email": gettext_lazy("same email"),
    "phone": gettext_lazy("same phone"),
    "name": gettext_lazy("similar name"),
    "domain": gettext_lazy("same domain"),
}
TABS = (
    ("contact", gettext_lazy("Contacts")),
    ("company", gettext_lazy("Companies")),
    ("merges", gettext_lazy("Merge history")),
)


def reason_labels(reasons: list[str], entity: str) -> list[str]:
    labels = []
    for reason in reasons:
        if reason == "name" and entity == "contact":
            labels.append(_("similar name at the same company"))
        else:
            labels.append(str(REASONS.get(reason, reason)))
    return labels


# --- the list ---------------------------------------------------------------------------------------------


class DuplicateListView(ModuleAccessMixin, View):
    """Customers → Duplicates: open pairs of contacts or companies, dismissed pairs, merge history."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        tab = request.GET.get("tab", "contact")
        tab = tab if tab in {key for key, _label in TABS} else "contact"
        status = request.GET.get("status", DuplicateStatus.OPEN)
        status = status if status in (DuplicateStatus.OPEN, DuplicateStatus.DISMISSED) else DuplicateStatus.OPEN
        user = request.user
        context: dict[str, Any] = {
            "tab": tab,
            "tabs": TABS,
            "status": status,
            "can_edit": access.can(user, MODULE, "edit"),
            "can_merge": access.can(user, MODULE, "edit") and access.can(user, MODULE, "delete"),
            "last_scan": _last_scan(),
            "undo_days": services.UNDO_DAYS,
            "reload_url": f"{reverse('customers:duplicate_list')}?tab={tab}",
            "job": None,
        }
        job_id = request.GET.get("job", "")
        if job_id:
            try:
                context["job"] = core_selectors.job_get(user=user, job_id=job_id)
            except ValidationError:
                context["job"] = None
        if tab == "merges":
            page = keyset_paginate(request, selectors.merge_list(user=user), ordering=("-id",), per_page=25)
            found = selectors.survivors(page.object_list)
            can_undo = selectors.undoable(user=user, merges=page.object_list)
            context.update(page=page, merges=[_merge_row(merge, found, can_undo) for merge in page.object_list])
        else:
            pairs = selectors.duplicate_list(user=user, entity=tab, status=status)
            page = keyset_paginate(request, pairs, ordering=("-score", "-id"), per_page=25)
            views = selectors.pair_views(page.object_list)
            for record in (record for view in views for record in (view.first, view.second)):
                record.phone_number, record.phone_display = shown_phone(
                    record, record.phone, sensitive=tab == "contact"
                )
            context.update(page=page, pairs=[(view, reason_labels(view.candidate.reasons, tab)) for view in views])
        return render(request, "customers/merging/duplicate_list.html", context)


def _last_scan() -> Any:
    """When the last scan finished (a datetime), or ``None``."""
    from django.utils.dateparse import parse_datetime

    found = scanning.last_scan()
    return parse_datetime(str(found.get("finished_at", ""))) if found else None


def _merge_row(merge: Any, found: dict[tuple[str, int], Any], can_undo: set[int]) -> dict[str, Any]:
    names = merge.snapshot.get("names", {}) if isinstance(merge.snapshot, dict) else {}
    return {
        "merge": merge,
        "survivor": found.get((merge.entity, merge.survivor_id)),
        "merged_names": [names.get(str(pk), f"#{pk}") for pk in merge.merged_ids],
        "can_undo": merge.pk in can_undo,
    }


class DuplicateActionView(ModuleAccessMixin, View):
    """Dismiss a pair ("Not a duplicate") or put a dismissed pair back on the list."""

    module = MODULE
    permission_action = "edit"
    reopen = False

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        candidate = selectors.duplicate_get(user=request.user, pk=pk)
        if candidate is None:
            raise Http404
        if self.reopen:
            services.duplicate_reopen(actor=request.user, candidate=candidate)
        else:
            services.duplicate_dismiss(actor=request.user, candidate=candidate)
        if wants_fragment(request):
            return HttpResponse("")  # the row disappears from the list
        if self.reopen:
            messages.success(request, _("The pair is back on the list."))
        else:
            messages.success(request, _("Marked as not a duplicate."))
        fallback = f"{reverse('customers:duplicate_list')}?tab={candidate.entity}"
        return HttpResponseRedirect(safe_next(request, fallback))


class DuplicateScanView(ModuleAccessMixin, View):
    """ "Scan now": a background job, whose progress the page shows."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest) -> HttpResponse:
        job = services.duplicates_scan_start(actor=request.user)
        tab = request.POST.get("tab", "contact")
        tab = tab if tab in ("contact", "company") else "contact"
        reload_url = f"{reverse('customers:duplicate_list')}?tab={tab}"
        if wants_fragment(request):
            return render(request, "customers/merging/_scan_status.html", {"job": job, "reload_url": reload_url})
        return HttpResponseRedirect(f"{reload_url}&job={job.pk}")


# --- the warning on the forms ------------------------------------------------------------------------------


class DuplicateCheckView(ModuleAccessMixin, View):
    """Posted by the contact and company forms as the person types: "This may already be in the CRM"."""

    module = MODULE

    def post(self, request: HttpRequest, entity: str) -> HttpResponse:
        if entity not in ENTITIES:
            raise Http404
        record = request.POST.get("record", "")
        exclude = int(record) if record.isdigit() and len(record) < 19 else None
        if entity == "contact":
            matches = selectors.contact_matches(user=request.user, data=request.POST, exclude=exclude)
        else:
            matches = selectors.company_matches(user=request.user, data=request.POST, exclude=exclude)
        rows = [(match.record, reason_labels(match.reasons, entity)) for match in matches]
        return render(request, "customers/merging/_duplicate_check_results.html", {"rows": rows, "entity": entity})


# --- the merge screen --------------------------------------------------------------------------------------


def _ids(request: HttpRequest, source: Any) -> list[int]:
    raw = source.getlist("ids")
    if not raw or not all(value.isdigit() and len(value) < 19 for value in raw):
        raise ValidationError(_("Pick two or more records to merge."))
    ids = [int(value) for value in raw]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("A record cannot be merged with itself: pick each record once."))
    if len(ids) < 2:
        raise ValidationError(_("Pick two or more records to merge."))
    if len(ids) > services.MAX_RECORDS:
        raise ValidationError(_("At most %(count)d records can be merged at once.") % {"count": services.MAX_RECORDS})
    return ids


def _display(record: Any, part: Part) -> str:
    """A part's value as a person reads it (masked when it is sensitive and the viewer may not see it)."""
    text = _display_clear(record, part)
    channel = is_channel(type(record), part) and part.key == "phone"
    if channel or any(getattr(record._meta.get_field(name), "encrypted", False) for name in part.fields):
        return masking.shown(record, text)
    return text


def _display_clear(record: Any, part: Part) -> str:
    if part.key == "name":
        return str(record.name)
    if part.key == "address":
        return ", ".join(record.address_lines)
    if is_channel(type(record), part):
        value = getattr(record, part.key)
        return display_phone(value) if part.key == "phone" and value else value
    name = part.fields[0]
    field = record._meta.get_field(name)
    value = getattr(record, field.attname)
    if value in (None, ""):
        return ""
    if field.is_relation:
        return str(getattr(record, name))
    if field.choices:
        return str(getattr(record, f"get_{name}_display")())
    if name == "phone":
        return display_phone(value)
    if hasattr(value, "isoformat"):
        return date_format(value)
    return str(value)


def _custom_display(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return str(value)


class RecordMergeView(ModuleAccessMixin, View):
    """Two or more records side by side (``?ids=1&ids=2``): a radio per part to pick each value, the record
    to keep, then one merge. Needs the permission to edit and to delete customers."""

    module = MODULE
    permission_action = "delete"
    entity = "contact"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not access.can(request.user, MODULE, "edit"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            ids = _ids(request, request.GET)
        except ValidationError as exc:
            return self.refuse(exc)
        records = selectors.merge_records(user=request.user, entity=self.entity, ids=ids)
        wanted = request.GET.get("survivor", "")
        survivor = next((r for r in records if str(r.pk) == wanted), records[0])
        form = MergeForm(records=records, survivor=survivor)
        return self.render_form(form, records)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            ids = _ids(request, request.POST)
        except ValidationError as exc:
            return self.refuse(exc)
        if "survivor" not in request.POST:
            # Sent from a list's bulk selection: show the records side by side first.
            query = "&".join(f"ids={pk}" for pk in ids)
            return HttpResponseRedirect(f"{request.path}?{query}")
        records = selectors.merge_records(user=request.user, entity=self.entity, ids=ids)
        form = MergeForm(request.POST, records=records, survivor=records[0])
        if not form.is_valid():
            return self.render_form(form, records, status=400)
        try:
            merge = services.records_merge(
                actor=request.user,
                entity=self.entity,
                ids=ids,
                survivor_id=form.cleaned_data["survivor"],
                choices=form.choices(),
                versions=form.versions(),
            )
        except ConflictError:
            return self.render_form(form, records, status=409, conflict=True)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
            return self.render_form(form, records, status=400)
        survivor: Any = ENTITIES[self.entity]._base_manager.get(pk=merge.survivor_id)
        count = len(merge.merged_ids) + 1
        messages.success(
            request,
            ngettext(
                "Merged %(count)d record into %(name)s. You can undo it under “Merged records”.",
                "Merged %(count)d records into %(name)s. You can undo it under “Merged records”.",
                count,
            )
            % {"count": count, "name": survivor},
        )
        return HttpResponseRedirect(survivor.get_absolute_url())

    def refuse(self, exc: ValidationError) -> HttpResponse:
        context = {"entity": self.entity, "errors": exc.messages, "list_url": self.list_url()}
        return render(self.request, "customers/merging/merge_refused.html", context, status=400)

    def list_url(self) -> str:
        return reverse("customers:contact_list" if self.entity == "contact" else "customers:company_list")

    def render_form(
        self, form: MergeForm, records: list[Any], *, status: int = 200, conflict: bool = False
    ) -> HttpResponse:
        survivor_value = form["survivor"].value()
        rows = []
        for part in parts_of(ENTITIES[self.entity]):
            bound = form[choice_name(part.key)] if choice_name(part.key) in form.fields else None
            rows.append(self._row(part.label, bound, [(r, _display(r, part), True) for r in records]))
        sensitive = sensitive_keys(self.entity)
        keys = custom_keys(records)
        labels = labels_by_key(self.entity, keys)
        for key in keys:
            name = CUSTOM_PREFIX + key
            bound = form[choice_name(name)] if choice_name(name) in form.fields else None

            def cell(record: Any, key: str = key) -> str:
                text = _custom_display(record.custom[key])
                return masking.shown(record, text) if key in sensitive else text

            cells = [(r, cell(r) if has_custom(r, key) else "", has_custom(r, key)) for r in records]
            rows.append(self._row(labels[key], bound, cells))
        context: dict[str, Any] = {
            "entity": self.entity,
            "form": form,
            "records": records,
            "survivor_value": str(survivor_value),
            "rows": rows,
            "channels": self._channels(records) if self.entity == "contact" else [],
            "tags": sorted({tag.name for record in records for tag in record.tags.all()}),
            "moves": selectors.related_counts(entity=self.entity, ids=[r.pk for r in records]),
            "conflict": conflict,
            "list_url": self.list_url(),
            "ids_query": "&".join(f"ids={record.pk}" for record in records),
        }
        context["record_columns"] = [(record, context["moves"].get(record.pk, [])) for record in records]
        return render(self.request, "customers/merging/merge_form.html", context, status=status)

    def _row(self, label: Any, bound: Any, cells: list[tuple[Any, str, bool]]) -> dict[str, Any]:
        chosen = str(bound.value()) if bound is not None else ""
        return {
            "label": label,
            "name": bound.html_name if bound is not None else "",
            "errors": bound.errors if bound is not None else [],
            "same": bound is None,
            "cells": [
                {"record": record, "value": value, "offered": offered, "checked": str(record.pk) == chosen}
                for record, value, offered in cells
            ],
        }

    def _channels(self, records: list[Any]) -> list[tuple[str, list[str]]]:
        emails = list(dict.fromkeys(e.email for record in records for e in record.emails.all()))
        phones = list(
            dict.fromkeys(
                masking.shown(record, display_phone(p.number)) for record in records for p in record.phones.all()
            )
        )
        return [(_("Email addresses"), emails), (_("Phone numbers"), phones)]


class ContactMergeView(RecordMergeView):
    entity = "contact"


class CompanyMergeView(RecordMergeView):
    entity = "company"


# --- undo -------------------------------------------------------------------------------------------------


class MergeUndoView(ModuleAccessMixin, View):
    """Undo a merge: the merged records come back with their ids, values and related rows."""

    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        merge = selectors.merge_get(user=request.user, pk=pk)
        if merge is None:
            raise Http404
        fallback = f"{reverse('customers:duplicate_list')}?tab=merges"
        try:
            merge = services.merge_undo(actor=request.user, merge=merge)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(safe_next(request, fallback))
        count = len(merge.merged_ids)
        text = ngettext(
            "The merge was undone: %(count)d record is back.",
            "The merge was undone: %(count)d records are back.",
            count,
        ) % {"count": count}
        model = ENTITIES[merge.entity]
        kept = [
            str(getattr(model._meta.get_field(name), "verbose_name", name))
            for name in merge.snapshot.get("undo", {}).get("kept", [])
        ]
        if kept:
            text += " " + _("Values changed since the merge were kept: %(fields)s.") % {"fields": ", ".join(kept)}
        messages.success(request, text)
        return HttpResponseRedirect(safe_next(request, fallback))
