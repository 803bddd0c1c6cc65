"""Settings → Custom fields: the administrator's pages (list per record type with order, add and edit
with inputs that follow the type, deactivate and reactivate, delete)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core.exceptions import ConflictError
from crm.core.views.generic import ModuleAccessMixin, ObjectFormView, record_history_page

from ..choices import CustomFieldEntity
from ..models import CustomField
from . import selectors, services
from .forms import DefinitionForm, default_text

MODULE = services.ADMIN_MODULE


def _list_url(entity: str = "") -> str:
    url = reverse("customers:custom_field_list")
    return f"{url}#{entity}" if entity else url


class CustomFieldListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        definitions = list(selectors.definition_list())
        groups = []
        for entity, label in CustomFieldEntity.choices:
            rows = [(d, default_text(d)) for d in definitions if d.entity == entity]
            groups.append({"entity": entity, "label": label, "fields": rows})
        context = {
            "groups": groups,
            "can_create": services.can_manage(request.user, "create"),
            "can_edit": services.can_manage(request.user, "edit"),
            "can_delete": services.can_manage(request.user, "delete"),
        }
        return render(request, "customers/custom_fields/field_list.html", context)


class CustomFieldFormView(ObjectFormView):
    """Add (``?entity=company|contact``) or edit a definition. A change of the type re-draws the form
    (htmx posts it with ``refresh``) so that the choices and the default fit the type."""

    module = MODULE
    model = CustomField
    form_class = DefinitionForm
    template_name = "customers/custom_fields/field_form.html"

    def get_queryset(self) -> QuerySet[CustomField]:
        return selectors.definition_list()

    def entity(self) -> str:
        entity = self.request.GET.get("entity") or self.request.POST.get("entity") or ""
        if entity not in CustomFieldEntity.values:
            raise Http404
        return entity

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        if instance is not None:
            return {"instance": instance}
        return {"entity": self.entity()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("refresh"):
            # The type (or the choices) changed: the same values, in the inputs of the new type; nothing
            # is checked or saved yet.
            instance = self.get_instance()
            sent = request.POST
            initial: dict[str, Any] = {
                name: sent.get(name, "") for name in ("label", "key", "kind", "choices", "help_text", "version")
            }
            initial["required"] = bool(sent.get("required"))
            initial["sensitive"] = bool(sent.get("sensitive"))
            initial["default"] = sent.getlist("default") if sent.get("kind") == "multi_choice" else sent.get("default")
            if instance is not None:
                initial["key"] = instance.key
            form = self.form_class(initial=initial, **self.get_form_kwargs(instance))
            return self.render_form(form, instance)
        return super().post(request, *args, **kwargs)

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": instance,
            "conflict": conflict,
            "holders": selectors.records_with_value(definition=instance).exists() if instance is not None else False,
            "history": record_history_page(self.request.user, instance) if instance is not None else [],
            "can_delete": services.can_manage(self.request.user, "delete"),
            "can_edit": services.can_manage(self.request.user, "edit"),
        }
        return render(self.request, str(self.template_name), context, status=status)

    def save(self, form: Any, instance: Any) -> CustomField:
        data = form.service_data()
        if instance is None:
            field = services.custom_field_create(actor=self.request.user, **data)
            messages.success(self.request, _("The field “%(label)s” was added.") % {"label": field.label})
            return field
        field = services.custom_field_update(
            actor=self.request.user, field=instance, data=data, version=form.cleaned_data["version"]
        )
        messages.success(self.request, _("The field “%(label)s” was saved.") % {"label": field.label})
        return field

    def get_success_url(self, obj: Any) -> str:
        return _list_url(obj.entity)


class _DefinitionActionView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def get_object(self, pk: int) -> CustomField:
        return get_object_or_404(selectors.definition_list(), pk=pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        field = self.get_object(pk)
        try:
            self.act(field)
        except ConflictError as exc:
            messages.error(request, str(exc.messages[0]))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return HttpResponseRedirect(_list_url(field.entity))

    def act(self, field: CustomField) -> None:
        raise NotImplementedError


class CustomFieldSetActiveView(_DefinitionActionView):
    def act(self, field: CustomField) -> None:
        active = self.request.POST.get("active") == "1"
        services.custom_field_set_active(actor=self.request.user, field=field, active=active)
        if active:
            messages.success(self.request, _("“%(label)s” is shown again.") % {"label": field.label})
        else:
            messages.success(
                self.request, _("“%(label)s” is hidden everywhere; its values are kept.") % {"label": field.label}
            )


class CustomFieldMoveView(_DefinitionActionView):
    def act(self, field: CustomField) -> None:
        step = -1 if self.request.POST.get("direction") == "up" else 1
        services.custom_field_move(actor=self.request.user, field=field, step=step)


class CustomFieldDeleteView(_DefinitionActionView):
    """GET asks "really delete?" (or says why it cannot be); POST deletes through the service."""

    permission_action = "delete"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        field = self.get_object(pk)
        holders = selectors.records_with_value(definition=field).count()
        context = {"object": field, "holders": holders, "can_edit": services.can_manage(request.user, "edit")}
        return render(request, "customers/custom_fields/field_delete.html", context)

    def act(self, field: CustomField) -> None:
        services.custom_field_delete(actor=self.request.user, field=field)
        messages.success(self.request, _("The field “%(label)s” was deleted.") % {"label": field.label})
