"""Base page views. A list, detail, form or delete page for a model is configuration on these:
the queryset is always ``Model.objects.visible_to(user, action=...)`` (core.access), the role's
module permission is checked first (403), a row outside the scope answers 404, and writes go
through the app's services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from .. import access
from ..exceptions import ConflictError
from ..htmx import render_page


class ModuleAccessMixin(LoginRequiredMixin):
    """Refuse (403) a user whose role does not grant ``permission_action`` in ``module``."""

    module: str = ""
    permission_action: str = "view"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.module and not access.can(request.user, self.module, self.permission_action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc,no-any-return,return-value]


class ScopedObjectMixin(ModuleAccessMixin):
    model: type[models.Model]
    request: HttpRequest
    kwargs: dict[str, Any]

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.model.objects.visible_to(self.request.user, action=self.permission_action)  # type: ignore[attr-defined]

    def get_object(self) -> Any:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])


class ObjectListView(ModuleAccessMixin, TemplateView):
    """A paginated, filtered list. ``filterset_class`` is the model's one filter definition."""

    model: type[models.Model]
    filterset_class: Any = None
    fragment_name: str | None = None
    paginate_by = 25
    ordering: tuple[str, ...] = ("-pk",)

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.model.objects.visible_to(self.request.user)  # type: ignore[attr-defined]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from ..pagination import paginate

        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
            queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = paginate(request, queryset.order_by(*self.ordering), per_page=self.paginate_by)
        context = self.get_context_data(filterset=filterset, page=page, object_list=page.object_list, **kwargs)
        return render_page(request, str(self.template_name), context, fragment=self.fragment_name)


class ObjectDetailView(ScopedObjectMixin, TemplateView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        context = self.get_context_data(object=obj, history=record_history_page(request.user, obj), **kwargs)
        return render_page(request, str(self.template_name), context)


class ObjectFormView(ScopedObjectMixin, TemplateView):
    """Create (no ``pk`` in the URL) or edit a row through a service.

    Subclasses define ``form_class`` and ``save(form, instance)`` calling the service; a
    ``ValidationError`` from the service lands on the form, a ``ConflictError`` offers a reload.
    """

    form_class: Any
    success_message: str = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.permission_action = "edit" if "pk" in kwargs else "create"
        return super().dispatch(request, *args, **kwargs)

    def get_instance(self) -> Any:
        return self.get_object() if "pk" in self.kwargs else None

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        return {"instance": instance}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        form = self.form_class(**self.get_form_kwargs(instance))
        return self.render_form(form, instance)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        form = self.form_class(data=request.POST, files=request.FILES, **self.get_form_kwargs(instance))
        if form.is_valid():
            try:
                saved = self.save(form, instance)
            except ConflictError as exc:
                form.add_error(None, exc)
                return self.render_form(form, instance, conflict=True, status=409)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return HttpResponseRedirect(self.get_success_url(saved))
        return self.render_form(form, instance, status=400)

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = self.get_context_data(form=form, object=instance, conflict=conflict)
        if instance is not None:
            context["history"] = record_history_page(self.request.user, instance)
        return render_page(self.request, str(self.template_name), context, status=status)

    def save(self, form: Any, instance: Any) -> Any:
        raise NotImplementedError

    def get_success_url(self, obj: Any) -> str:
        return str(obj.get_absolute_url())


class ObjectActionView(ScopedObjectMixin, View):
    """A POST that acts on one row (delete, deactivate, revoke...) through a service."""

    permission_action = "edit"
    success_message: str = ""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            self.act(obj)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            if self.success_message:
                messages.success(request, self.success_message)
        return HttpResponseRedirect(self.get_success_url(obj))

    def act(self, obj: Any) -> None:
        raise NotImplementedError

    def get_success_url(self, obj: Any) -> str:
        raise NotImplementedError


def record_history_page(user: Any, obj: Any, *, limit: int = 20) -> list[Any]:
    """The newest changes of a record the user can already see, ready to show."""
    from .. import journal, journal_display, selectors

    if not journal.is_registered(type(obj)):
        return []
    return journal_display.describe(selectors.record_history(user=user, obj=obj).select_related("content_type")[:limit])


def apply_validation_error(form: Any, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (or on top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def conflict_message() -> str:
    return _("Someone else changed this record while you were editing it.")
