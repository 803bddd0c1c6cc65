"""Settings → Lead assignment and Settings → Sales settings: the administrator's pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core.exceptions import ConflictError
from crm.core.views.generic import ModuleAccessMixin, ObjectFormView, apply_validation_error, record_history_page
from crm.customers.countries import country_name

from ..models import AssignmentRule
from . import assignment, selectors, settings_services
from .forms import AssignmentRuleForm, SalesSettingsForm

MODULE = settings_services.ADMIN_MODULE
TEMPLATES = "sales/leads/"


def _list_url() -> str:
    return reverse("sales:assignment_rule_list")


class AssignmentRuleListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        rules = list(selectors.assignment_rule_list())
        team_ids = {rule.team_id for rule in rules if rule.team_id}
        members: dict[int, list[Any]] = {}
        if team_ids:
            for user in (
                assignment.available_users().filter(teams__in=team_ids).prefetch_related("teams").order_by("id")
            ):
                for team in user.teams.all():
                    if team.pk in team_ids:
                        members.setdefault(team.pk, []).append(user)
        for rule in rules:
            rule.countries_text = ", ".join(country_name(code) for code in rule.countries or [])  # type: ignore[attr-defined]
            rule.available = members.get(rule.team_id, []) if rule.team_id else []  # type: ignore[attr-defined]
        settings = selectors.sales_settings()
        context = {
            "rules": rules,
            "settings": settings,
            "can_create": settings_services.can_manage(request.user, "create"),
            "can_edit": settings_services.can_manage(request.user, "edit"),
            "can_delete": settings_services.can_manage(request.user, "delete"),
        }
        return render(request, TEMPLATES + "assignment_rule_list.html", context)


class AssignmentRuleFormView(ObjectFormView):
    module = MODULE
    model = AssignmentRule
    form_class = AssignmentRuleForm
    template_name = TEMPLATES + "assignment_rule_form.html"

    def get_queryset(self) -> QuerySet[AssignmentRule]:
        return selectors.assignment_rule_list()

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": instance,
            "conflict": conflict,
            "history": record_history_page(self.request.user, instance) if instance is not None else [],
            "can_delete": settings_services.can_manage(self.request.user, "delete"),
        }
        return render(self.request, str(self.template_name), context, status=status)

    def save(self, form: Any, instance: Any) -> AssignmentRule:
        data = form.service_data()
        if instance is None:
            rule = settings_services.assignment_rule_create(actor=self.request.user, data=data)
            messages.success(self.request, _("The rule “%(name)s” was added.") % {"name": rule.name})
            return rule
        rule = settings_services.assignment_rule_update(
            actor=self.request.user, rule=instance, data=data, version=form.cleaned_data["version"]
        )
        messages.success(self.request, _("The rule “%(name)s” was saved.") % {"name": rule.name})
        return rule

    def get_success_url(self, obj: Any) -> str:
        return _list_url()


class AssignmentRuleMoveView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(selectors.assignment_rule_list(), pk=pk)
        step = -1 if request.POST.get("direction") == "up" else 1
        settings_services.assignment_rule_move(actor=request.user, rule=rule, step=step)
        return HttpResponseRedirect(_list_url())


class AssignmentRuleDeleteView(ModuleAccessMixin, View):
    """GET asks "really delete?"; POST deletes through the service."""

    module = MODULE
    permission_action = "delete"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(selectors.assignment_rule_list(), pk=pk)
        return render(request, TEMPLATES + "assignment_rule_delete.html", {"object": rule})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(selectors.assignment_rule_list(), pk=pk)
        try:
            settings_services.assignment_rule_delete(actor=request.user, rule=rule)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The rule “%(name)s” was deleted.") % {"name": rule.name})
        return HttpResponseRedirect(_list_url())


class SalesSettingsView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        settings = selectors.sales_settings()
        return self.render_form(SalesSettingsForm(instance=settings), settings)

    def post(self, request: HttpRequest) -> HttpResponse:
        settings = selectors.sales_settings()
        if not settings_services.can_manage(request.user, "edit"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = SalesSettingsForm(request.POST, instance=settings)
        if form.is_valid():
            try:
                settings_services.sales_settings_update(
                    actor=request.user, data=form.service_data(), loaded_at=form.cleaned_data.get("loaded_at")
                )
            except ConflictError as exc:
                form.add_error(None, exc)
                return self.render_form(form, settings, conflict=True, status=409)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("The sales settings were saved."))
                return HttpResponseRedirect(reverse("sales:sales_settings"))
        return self.render_form(form, settings, status=400)

    def render_form(self, form: Any, settings: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": settings,
            "conflict": conflict,
            "history": record_history_page(self.request.user, settings),
            "can_edit": settings_services.can_manage(self.request.user, "edit"),
        }
        return render(self.request, TEMPLATES + "sales_settings.html", context, status=status)
