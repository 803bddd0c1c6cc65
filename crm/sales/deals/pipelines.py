"""Settings → Pipelines: administrators define pipelines with their ordered stages, and the loss
reasons and competitors that deals pick from."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core.exceptions import ConflictError
from crm.core.views.generic import ModuleAccessMixin

from ..models import Competitor, LossReason, Pipeline
from . import selectors, services
from .forms import PipelineForm, StageFormSet

ADMIN_MODULE = "accounts"


class PipelineListView(ModuleAccessMixin, View):
    module = ADMIN_MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        pipelines = list(selectors.pipeline_list(active_only=False).prefetch_related("stages"))
        context = {
            "pipelines": pipelines,
            "loss_reasons": list(LossReason.objects.all()),
            "competitors": list(Competitor.objects.all()),
        }
        return render(request, "sales/deals/pipeline_list.html", context)


class PipelineFormView(ModuleAccessMixin, View):
    module = ADMIN_MODULE
    permission_action = "edit"

    def _render(
        self, request: HttpRequest, pipeline: Pipeline | None, form: Any, formset: Any, status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            "sales/deals/pipeline_form.html",
            {"pipeline": pipeline, "form": form, "formset": formset},
            status=status,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        pipeline = get_object_or_404(Pipeline, pk=pk) if pk else None
        if pipeline is None:
            form = PipelineForm(initial={"is_active": True})
            formset = StageFormSet(
                initial=[
                    {"name": _("Qualification"), "probability": 10, "kind": "open"},
                    {"name": _("Proposal"), "probability": 50, "kind": "open"},
                    {"name": _("Negotiation"), "probability": 75, "kind": "open"},
                    {"name": _("Won"), "probability": 100, "kind": "won"},
                    {"name": _("Lost"), "probability": 0, "kind": "lost"},
                ],
                prefix="stages",
            )
        else:
            form = PipelineForm(
                initial={"name": pipeline.name, "is_default": pipeline.is_default, "is_active": pipeline.is_active}
            )
            formset = StageFormSet(
                initial=[
                    {"id": s.pk, "name": s.name, "probability": s.probability, "kind": s.kind}
                    for s in selectors.stage_list(pipeline=pipeline)
                ],
                prefix="stages",
            )
        return self._render(request, pipeline, form, formset)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        pipeline = get_object_or_404(Pipeline, pk=pk) if pk else None
        form = PipelineForm(request.POST)
        formset = StageFormSet(request.POST, prefix="stages")
        if form.is_valid() and formset.is_valid():
            stages = [
                row for row in formset.cleaned_data if row and not row.get("DELETE") and (row.get("name") or "").strip()
            ]
            version = request.POST.get("version", "")
            try:
                saved = services.pipeline_save(
                    actor=request.user,
                    pipeline=pipeline,
                    data=form.cleaned_data,
                    stages=stages,
                    version=int(version) if version.isdigit() else None,
                )
            except ConflictError as exc:
                form.add_error(None, exc)
                return self._render(request, pipeline, form, formset, status=409)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Pipeline saved."))
                return HttpResponseRedirect(reverse("sales:pipeline_list") + f"#pipeline-{saved.pk}")
        return self._render(request, pipeline, form, formset, status=400)


class _NamedListView(ModuleAccessMixin, View):
    """Add or remove a loss reason or a competitor (a name; removal only while unused)."""

    module = ADMIN_MODULE
    permission_action = "edit"
    model: Any = None

    def post(self, request: HttpRequest) -> HttpResponse:
        anchor = "#" + self.model._meta.model_name
        remove = request.POST.get("remove", "")
        if remove.isdigit():
            try:
                services.named_delete(actor=request.user, obj=get_object_or_404(self.model, pk=int(remove)))
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            return HttpResponseRedirect(reverse("sales:pipeline_list") + anchor)
        try:
            services.named_create(actor=request.user, model=self.model, name=request.POST.get("name", ""))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except IntegrityError:
            messages.error(request, _("That name is already in the list."))
        return HttpResponseRedirect(reverse("sales:pipeline_list") + anchor)


class LossReasonsView(_NamedListView):
    model = LossReason


class CompetitorsView(_NamedListView):
    model = Competitor
