"""Inline edit of a simple field straight from a list cell: the pencil opens a one-field form in the
cell, saving goes through the same service as the edit page (permissions, validation, stale-edit
check, journal), and the cell shows the saved value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from crm.core.exceptions import ConflictError
from crm.core.views.generic import ModuleAccessMixin

from .. import selectors, services
from ..models import Company, Contact

# The fields a list cell can edit, per list: short values whose widget fits in a cell.
INLINE_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("title", "lifecycle_stage", "city"),
    "company": ("industry", "size", "city"),
}
MODELS: dict[str, Any] = {"contact": Contact, "company": Company}


def _record(user: Any, model_key: str, pk: int) -> Any:
    queryset = (
        selectors.contact_list(user=user, action="edit")
        if model_key == "contact"
        else selectors.company_list(user=user, action="edit")
    )
    record = queryset.filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


def _save(user: Any, model_key: str, record: Any, field: str, value: Any, version: int) -> Any:
    if model_key == "contact":
        return services.contact_update(actor=user, contact=record, data={field: value}, version=version)
    return services.company_update(actor=user, company=record, data={field: value}, version=version)


class InlineEditView(ModuleAccessMixin, View):
    module = "customers"
    permission_action = "edit"
    model_key = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if kwargs.get("field") not in INLINE_FIELDS[self.model_key]:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def form_class(self, field: str) -> type[forms.ModelForm]:
        form = modelform_factory(MODELS[self.model_key], fields=[field])
        form.base_fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
        form.base_fields[field].widget.attrs["autofocus"] = True
        return form

    def render_cell(self, request: HttpRequest, record: Any, field: str, *, status: int = 200) -> HttpResponse:
        context = {"record": record, "field": field, "model_key": self.model_key, "can_edit": True}
        return render(request, "customers/partials/_inline_value.html", context, status=status)

    def render_form(self, request: HttpRequest, record: Any, field: str, form: Any, **extra: Any) -> HttpResponse:
        status = extra.pop("status", 200)
        context = {"record": record, "field": field, "form": form, "bound": form[field], "model_key": self.model_key}
        return render(request, "customers/partials/_inline_form.html", {**context, **extra}, status=status)

    def get(self, request: HttpRequest, pk: int, field: str) -> HttpResponse:
        record = _record(request.user, self.model_key, pk)
        if request.GET.get("cancel"):
            return self.render_cell(request, record, field)
        form = self.form_class(field)(instance=record, initial={"version": record.version})
        return self.render_form(request, record, field, form)

    def post(self, request: HttpRequest, pk: int, field: str) -> HttpResponse:
        record = _record(request.user, self.model_key, pk)
        form = self.form_class(field)(request.POST, instance=record)
        if not form.is_valid():
            return self.render_form(request, record, field, form, status=422)
        try:
            saved = _save(
                request.user, self.model_key, record, field, form.cleaned_data[field], form.cleaned_data["version"]
            )
        except ConflictError:
            fresh = _record(request.user, self.model_key, pk)
            form = self.form_class(field)(instance=fresh, initial={"version": fresh.version})
            message = _("Someone else changed this record meanwhile; this is its current value.")
            return self.render_form(request, fresh, field, form, error=message, status=409)
        except ValidationError as exc:
            messages = exc.message_dict.get(field) if hasattr(exc, "error_dict") else exc.messages
            form.add_error(None, " ".join(messages or exc.messages))
            return self.render_form(request, record, field, form, status=422)
        return self.render_cell(request, saved, field)


class ContactInlineEditView(InlineEditView):
    model_key = "contact"


class CompanyInlineEditView(InlineEditView):
    model_key = "company"
