"""Pages of retention rules (Settings → Retention rules): the rules with their log, a rule's form, the
dry run (what applying would reach, nothing changed) and applying a rule as a job."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.core import access
from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin

from . import retention
from .choices import RetentionAction
from .models import RetentionRule

MODULE = retention.MODULE
TEMPLATES = "dataprotection/retention/"


class RetentionRuleForm(forms.Form):
    # Whether the type exists and offers the action is the service's to judge (a clear field error).
    record_type = forms.CharField(label=gettext_lazy("Record type"), widget=forms.Select)
    months = forms.IntegerField(
        label=gettext_lazy("Months inactive"),
        help_text=gettext_lazy("Records nobody worked on or changed for this long (1 to 600 months)."),
    )
    action = forms.CharField(label=gettext_lazy("Action"), widget=forms.Select(choices=RetentionAction.choices))
    active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        help_text=gettext_lazy("Active rules are applied every day; an inactive rule is kept with its log."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].widget.choices = [(t.key, t.label) for t in retention.retention_targets()]


def _rule(request: HttpRequest, pk: int, action: str = "view") -> RetentionRule:
    try:
        return retention.retention_rule_get(user=request.user, pk=pk, action=action)
    except RetentionRule.DoesNotExist as exc:
        raise Http404 from exc


def _labels() -> dict[str, Any]:
    return {t.key: t.label for t in retention.retention_targets()}


class RetentionListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        labels = _labels()
        rules = [
            (rule, labels.get(rule.record_type, rule.record_type))
            for rule in retention.retention_rule_list(user=request.user)
        ]
        page = paginate(request, retention.retention_run_list(user=request.user))
        for run in page.object_list:
            run.type_label = labels.get(run.record_type, run.record_type)
        context = {
            "rules": rules,
            "page": page,
            "labels": labels,
            "can_create": access.can(request.user, MODULE, "create") and len(rules) < len(labels),
            "can_edit": access.can(request.user, MODULE, "edit"),
            "can_apply": access.can(request.user, MODULE, "delete"),
        }
        return render(request, TEMPLATES + "rule_list.html", context)


class _RuleFormView(ModuleAccessMixin, View):
    module = MODULE

    def render(
        self, request: HttpRequest, form: RetentionRuleForm, rule: RetentionRule | None, status: int = 200
    ) -> HttpResponse:
        return render(request, TEMPLATES + "rule_form.html", {"form": form, "object": rule}, status=status)

    def save(self, request: HttpRequest, rule: RetentionRule | None) -> HttpResponse:
        form = RetentionRuleForm(request.POST)
        if form.is_valid():
            try:
                if rule is None:
                    retention.retention_rule_create(actor=request.user, data=form.cleaned_data)
                else:
                    retention.retention_rule_update(actor=request.user, rule=rule, data=form.cleaned_data)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, _("Retention rule saved."))
                return HttpResponseRedirect(reverse("dataprotection:retention_list"))
        return self.render(request, form, rule, status=400)


class RetentionCreateView(_RuleFormView):
    permission_action = "create"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = RetentionRuleForm(initial={"months": 24, "action": RetentionAction.ANONYMISE, "active": True})
        return self.render(request, form, None)

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.save(request, None)


class RetentionEditView(_RuleFormView):
    permission_action = "edit"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = _rule(request, pk, "edit")
        form = RetentionRuleForm(
            initial={
                "record_type": rule.record_type,
                "months": rule.months,
                "action": rule.action,
                "active": rule.active,
            }
        )
        return self.render(request, form, rule)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.save(request, _rule(request, pk, "edit"))


class RetentionDryRunView(ModuleAccessMixin, View):
    """How many records applying the rule now would reach, and the first of them; nothing changes."""

    module = MODULE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = _rule(request, pk)
        try:
            run, sample = retention.retention_rule_dry_run(actor=request.user, rule=rule)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(reverse("dataprotection:retention_list"))
        context = {
            "rule": rule,
            "run": run,
            "sample": sample,
            "label": _labels().get(rule.record_type, rule.record_type),
            "can_apply": access.can(request.user, MODULE, "delete"),
        }
        return render(request, TEMPLATES + "dry_run.html", context)


class RetentionApplyView(ModuleAccessMixin, View):
    """Apply the rule now, as a job; the log on the list page shows its progress and outcome."""

    module = MODULE
    permission_action = "delete"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = _rule(request, pk)
        try:
            retention.retention_rule_apply_start(actor=request.user, rule=rule)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Started. The log below shows the progress."))
        return HttpResponseRedirect(reverse("dataprotection:retention_list"))
