"""Settings → Lead scoring: the rules (list, add, edit, delete), the weight of the predicted part, the
active model's quality and top factors, the history of models, and "Train now"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core import selectors as core_selectors
from crm.core.htmx import wants_fragment
from crm.core.pagination import keyset_paginate
from crm.core.views.generic import ModuleAccessMixin, ObjectFormView, apply_validation_error, record_history_page

from ..choices import ScoringKind
from ..models import SalesSettings, ScoringRule
from . import selectors, services
from .forms import RuleForm, WeightForm
from .model import MIN_CLOSED, MIN_PER_CLASS
from .rules import FACTS, describe_value

MODULE = services.MODULE


def _page_url() -> str:
    return reverse("sales:lead_scoring")


class ManageMixin:
    """Refuse (403) whoever may not change lead scoring."""

    request: HttpRequest

    def check_manage(self) -> None:
        if not services.can_manage(self.request.user):
            raise PermissionDenied


def rule_row(rule: ScoringRule) -> dict[str, Any]:
    fact = FACTS.get(rule.field)
    return {
        "rule": rule,
        "fact": fact.label if fact is not None else rule.field,
        "value": describe_value(rule.field, rule.value),
    }


def page_context(request: HttpRequest, *, weight_form: WeightForm | None = None) -> dict[str, Any]:
    user = request.user
    rules = [rule_row(rule) for rule in selectors.rule_list(user=user)]
    groups = [
        {"kind": kind, "label": label, "rows": [row for row in rules if row["rule"].kind == kind]}
        for kind, label in ScoringKind.choices
    ]
    active = selectors.model_active()
    page = keyset_paginate(request, selectors.model_list(user=user), ordering=("-created_at", "-id"), per_page=10)
    weight = SalesSettings.load().scoring_model_weight
    context: dict[str, Any] = {
        "groups": groups,
        "rule_count": len(rules),
        "active": active,
        "latest": selectors.model_latest(),
        "factors": selectors.top_factors(model=active),
        "page": page,
        "can_manage": services.can_manage(user),
        "weight": weight,
        "rule_weight": 100 - weight,
        "weight_form": weight_form or WeightForm(initial={"weight": weight}),
        "minimum": {"closed": MIN_CLOSED, "per_class": MIN_PER_CLASS},
        "job": None,
    }
    job_id = request.GET.get("job", "")
    if job_id:
        try:
            context["job"] = core_selectors.job_get(user=user, job_id=job_id)
        except ValidationError:
            context["job"] = None
    return context


class ScoringView(ModuleAccessMixin, View):
    """The page: everyone in Sales may read how leads are scored; managers change it."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "sales/scoring/scoring.html", page_context(request))


class RuleFormView(ManageMixin, ObjectFormView):
    module = MODULE
    model = ScoringRule
    form_class = RuleForm
    template_name = "sales/scoring/rule_form.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            if not services.can_view(request.user):
                raise PermissionDenied
            self.check_manage()
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ScoringRule]:
        return selectors.rule_list(user=self.request.user, action="edit")

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": instance,
            "conflict": conflict,
            "facts": FACTS.values(),
            "history": record_history_page(self.request.user, instance) if instance is not None else [],
        }
        return render(self.request, str(self.template_name), context, status=status)

    def save(self, form: Any, instance: Any) -> ScoringRule:
        data = form.service_data()
        if instance is None:
            rule = services.scoring_rule_create(actor=self.request.user, data=data)
            messages.success(
                self.request,
                _("The rule “%(name)s” was added; the leads’ scores are being updated.") % {"name": rule.name},
            )
            return rule
        rule = services.scoring_rule_update(
            actor=self.request.user, rule=instance, data=data, version=form.cleaned_data["version"]
        )
        messages.success(self.request, _("The rule “%(name)s” was saved.") % {"name": rule.name})
        return rule

    def get_success_url(self, obj: Any) -> str:
        return _page_url()


class RuleDeleteView(ManageMixin, ModuleAccessMixin, View):
    """GET asks "really delete?"; POST deletes through the service."""

    module = MODULE

    def get_object(self, pk: int) -> ScoringRule:
        self.check_manage()
        rule = selectors.rule_get(user=self.request.user, pk=pk, action="delete")
        if rule is None:
            raise Http404
        return rule

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self.get_object(pk)
        return render(request, "sales/scoring/rule_delete.html", {"object": rule, "row": rule_row(rule)})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self.get_object(pk)
        name = rule.name
        services.scoring_rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("The rule “%(name)s” was deleted.") % {"name": name})
        return HttpResponseRedirect(_page_url())


class TrainView(ManageMixin, ModuleAccessMixin, View):
    """ "Train now": a background job (training, then scoring every lead), whose progress the page shows."""

    module = MODULE

    def post(self, request: HttpRequest) -> HttpResponse:
        self.check_manage()
        job = services.scoring_model_train_start(actor=request.user)
        if wants_fragment(request):
            return render(request, "sales/scoring/_train_status.html", {"job": job})
        return HttpResponseRedirect(f"{_page_url()}?job={job.pk}#model")


class WeightView(ManageMixin, ModuleAccessMixin, View):
    """The weight of the predicted part; a bad value is refused next to the input, nothing changes."""

    module = MODULE

    def post(self, request: HttpRequest) -> HttpResponse:
        self.check_manage()
        form = WeightForm(request.POST)
        if form.is_valid():
            try:
                services.scoring_weight_set(actor=request.user, weight=form.cleaned_data["weight"])
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("The weight of the predicted score was saved."))
                return HttpResponseRedirect(_page_url())
        return render(request, "sales/scoring/scoring.html", page_context(request, weight_form=form), status=400)
