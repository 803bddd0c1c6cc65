"""Pages of activities, tasks and the calendar, the timeline fragments, and the calendar feed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.decorators import method_decorator
from django.utils.formats import get_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.decorators import ratelimit

from crm.accounts.models import hash_secret
from crm.core import access
from crm.core.htmx import render_page, wants_fragment
from crm.core.pagination import keyset_paginate
from crm.core.views.generic import (
    ModuleAccessMixin,
    ObjectActionView,
    ObjectDetailView,
    ObjectFormView,
    ScopedObjectMixin,
    apply_validation_error,
)

from ..choices import ActivityKind
from ..models import Activity, Company, Contact, Task
from . import panels, selectors, services
from .filtersets import ActivityFilterSet
from .forms import ActivityForm, TaskForm
from .ical import build_feed
from .timeline import Cursor, timeline_page, type_choices

MODULE = "customers"
TEMPLATES = "customers/activities/"


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- timeline --------------------------------------------------------------------------------------


class RecordTimelineView(ModuleAccessMixin, View):
    """A record's timeline: a fragment for htmx (the first page of a filter, or the next page when
    scrolled to the end), the whole timeline on its own page otherwise."""

    module = MODULE
    model_name = "contact"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = panels.record_for_key(user=request.user, key=f"{self.model_name}-{pk}")
        if obj is None:
            raise Http404
        types = request.GET.getlist("type")
        after = Cursor.decode(request.GET.get("after", ""))
        if wants_fragment(request):
            context = timeline_fragment_context(user=request.user, obj=obj, types=types, after=after)
            template = "_timeline_items.html" if "after" in request.GET else "_timeline_body.html"
            return render(request, TEMPLATES + template, context)
        context = panels.timeline_context(user=request.user, obj=obj, types=types, after=after) or {}
        return render(request, TEMPLATES + "timeline.html", {**context, "object": obj})


def timeline_fragment_context(
    *, user: Any, obj: Contact | Company, types: list[str], after: Any = None
) -> dict[str, Any]:
    return {
        "timeline": timeline_page(user=user, obj=obj, types=types, after=after),
        "timeline_record": obj,
        "timeline_key": panels.panel_key(obj),
        "timeline_model": obj._meta.model_name,
        "timeline_url": panels.timeline_url(obj),
        "timeline_types": type_choices(user, obj._meta.label_lower),
    }


# --- activities ------------------------------------------------------------------------------------


class ActivityListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = ActivityFilterSet(request.GET or None, queryset=selectors.activity_list(user=request.user))
        activities = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        page = keyset_paginate(request, activities, ordering=("-occurred_at", "-id"), per_page=25)
        context = {"filterset": filterset, "page": page, "can_create": access.can(request.user, MODULE, "create")}
        return render_page(request, TEMPLATES + "activity_list.html", context)


class ActivityDetailView(ObjectDetailView):
    module = MODULE
    model = Activity
    template_name = TEMPLATES + "activity_detail.html"

    def get_queryset(self) -> QuerySet[Activity]:
        return selectors.activity_list(user=self.request.user, action=self.permission_action).prefetch_related(
            "attendees"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_edit"] = access.can(self.request.user, MODULE, "edit")
        context["can_delete"] = access.can(self.request.user, MODULE, "delete")
        return context


class PanelFormMixin:
    """A form posted from a record's timeline panel with htmx answers with fragments: the form again
    with its errors next to the fields, or a fresh form and the refreshed timeline and open tasks."""

    request: HttpRequest

    def panel_record(self, request: HttpRequest) -> Contact | Company | None:
        key = request.POST.get("panel", "") if request.method == "POST" else request.GET.get("panel", "")
        if not key or not wants_fragment(request):
            return None
        return panels.record_for_key(user=request.user, key=key)

    def blank_panel_form(self, obj: Contact | Company) -> Any:
        raise NotImplementedError

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """A timeline panel's tab asks for its blank form when it is first shown (htmx)."""
        obj = self.panel_record(request) if "pk" not in kwargs else None
        if obj is None:
            return super().get(request, *args, **kwargs)
        form, kind = self.blank_panel_form(obj)
        context = {"form": form, "kind": kind, "timeline_key": panels.panel_key(obj)}
        return render(request, TEMPLATES + "_log_form.html", context)

    def panel_saved(self, obj: Contact | Company, context: dict[str, Any]) -> HttpResponse:
        user = self.request.user
        context = {
            **context,
            **timeline_fragment_context(user=user, obj=obj, types=[]),
            **(panels.open_tasks_context(user=user, obj=obj) or {}),
            "saved": True,
        }
        return render(self.request, TEMPLATES + "_panel_saved.html", context)


class ActivityFormView(PanelFormMixin, ObjectFormView):
    module = MODULE
    model = Activity
    form_class = ActivityForm
    template_name = TEMPLATES + "activity_form.html"
    success_message = ""

    def get_queryset(self) -> QuerySet[Activity]:
        return selectors.activity_list(user=self.request.user, action=self.permission_action)

    def kind(self, instance: Activity | None) -> str:
        if instance is not None:
            return instance.kind
        return self.request.POST.get("kind") or self.request.GET.get("kind") or "note"

    def get_form_kwargs(self, instance: Activity | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "user": self.request.user,
            "kind": self.kind(instance),
            "editing": instance is not None,
        }
        if instance is not None:
            kwargs["initial"] = ActivityForm.initial_for(instance)
        else:
            kwargs["initial"] = {k: self.request.GET[k] for k in ("contact", "company") if self.request.GET.get(k)}
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        kind = getattr(form, "activity_kind", "note")
        context["kind"] = kind
        context["kind_label"] = ActivityKind(kind).label
        context["kinds"] = ActivityKind.choices
        if context.get("object") is None:
            record = self.request.POST.get("contact") or self.request.GET.get("contact")
            field = "contact" if record else "company"
            record = record or self.request.POST.get("company") or self.request.GET.get("company")
            found = panels.record_for_key(user=self.request.user, key=f"{field}-{record}") if record else None
            context["record"] = found
            context["record_query"] = f"{field}={found.pk}" if found is not None else ""
        return context

    def get_success_url(self, obj: Activity) -> str:
        if self.request.POST.get("panel") and obj.record is not None:
            return str(obj.record.get_absolute_url())  # back to the 360 page (without htmx)
        return str(obj.get_absolute_url())

    def save(self, form: Any, instance: Activity | None) -> Activity:
        data = form.service_data()
        if instance is None:
            return services.activity_log(actor=self.request.user, data=data)
        data.pop("kind", None)
        return services.activity_update(
            actor=self.request.user, activity=instance, data=data, version=form.cleaned_data.get("version")
        )

    def blank_panel_form(self, obj: Contact | Company) -> Any:
        kind = self.kind(None)
        if kind not in ActivityKind.values:
            raise Http404
        return panels.activity_form(user=self.request.user, obj=obj, kind=kind), kind

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.panel_record(request) if "pk" not in kwargs else None
        if obj is None:
            return super().post(request, *args, **kwargs)
        kind = self.kind(None)
        form = panels.activity_form(user=request.user, obj=obj, kind=kind, data=request.POST)
        if form.is_valid():
            try:
                services.activity_log(actor=request.user, data=form.service_data())
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                fresh = panels.activity_form(user=request.user, obj=obj, kind=kind)
                return self.panel_saved(obj, {"form": fresh, "kind": kind})
        context = {"form": form, "kind": kind, "timeline_key": panels.panel_key(obj)}
        return render(request, TEMPLATES + "_log_form.html", context)


class ActivityDeleteView(ObjectActionView):
    module = MODULE
    model = Activity
    permission_action = "delete"
    success_message = ""

    def get_queryset(self) -> QuerySet[Activity]:
        return selectors.activity_list(user=self.request.user, action="delete")

    def act(self, obj: Activity) -> None:
        self.record_url = obj.record.get_absolute_url() if obj.record is not None else ""
        services.activity_delete(actor=self.request.user, activity=obj)
        messages.success(self.request, _("The activity was deleted."))

    def get_success_url(self, obj: Activity) -> str:
        return _safe_next(self.request, getattr(self, "record_url", "") or reverse("customers:activity_list"))


# --- tasks -----------------------------------------------------------------------------------------


class TaskListView(ModuleAccessMixin, View):
    """My tasks: open tasks by due day in the user's time zone, completed with one click."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        groups = selectors.my_task_groups(user=request.user)
        sections = [
            ("overdue", _("Overdue"), groups.overdue, "bg-red-lt"),
            ("today", _("Today"), groups.today, "bg-yellow-lt"),
            ("upcoming", _("Upcoming"), groups.upcoming, "bg-blue-lt"),
            ("someday", _("No due date"), groups.someday, "bg-secondary-lt"),
        ]
        context = {
            "groups": groups,
            "sections": sections,
            "can_create": access.can(request.user, MODULE, "create"),
            "can_edit": access.can(request.user, MODULE, "edit"),
        }
        return render(request, TEMPLATES + "task_list.html", context)


class TaskDetailView(ObjectDetailView):
    module = MODULE
    model = Task
    template_name = TEMPLATES + "task_detail.html"

    def get_queryset(self) -> QuerySet[Task]:
        return selectors.task_list(user=self.request.user, action=self.permission_action).select_related("owner")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_edit"] = access.can(self.request.user, MODULE, "edit")
        context["can_delete"] = access.can(self.request.user, MODULE, "delete")
        return context


class TaskFormView(PanelFormMixin, ObjectFormView):
    module = MODULE
    model = Task
    form_class = TaskForm
    template_name = TEMPLATES + "task_form.html"

    def get_queryset(self) -> QuerySet[Task]:
        return selectors.task_list(user=self.request.user, action=self.permission_action)

    def get_form_kwargs(self, instance: Task | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"user": self.request.user, "editing": instance is not None}
        if instance is not None:
            kwargs["initial"] = TaskForm.initial_for(instance)
        else:
            kwargs["initial"] = {k: self.request.GET[k] for k in ("contact", "company") if self.request.GET.get(k)}
        return kwargs

    def get_success_url(self, obj: Task) -> str:
        if self.request.POST.get("panel") and obj.record is not None:
            return str(obj.record.get_absolute_url())
        return str(obj.get_absolute_url())

    def save(self, form: Any, instance: Task | None) -> Task:
        data = form.service_data()
        if instance is None:
            return services.task_create(actor=self.request.user, data=data)
        return services.task_update(
            actor=self.request.user, task=instance, data=data, version=form.cleaned_data.get("version")
        )

    def blank_panel_form(self, obj: Contact | Company) -> Any:
        return panels.task_form(user=self.request.user, obj=obj), "task"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.panel_record(request) if "pk" not in kwargs else None
        if obj is None:
            return super().post(request, *args, **kwargs)
        form = panels.task_form(user=request.user, obj=obj, data=request.POST)
        if form.is_valid():
            try:
                services.task_create(actor=request.user, data=form.service_data())
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return self.panel_saved(obj, {"form": panels.task_form(user=request.user, obj=obj), "kind": "task"})
        context = {"form": form, "kind": "task", "timeline_key": panels.panel_key(obj)}
        return render(request, TEMPLATES + "_log_form.html", context)


class TaskDeleteView(ObjectActionView):
    module = MODULE
    model = Task
    permission_action = "delete"

    def get_queryset(self) -> QuerySet[Task]:
        return selectors.task_list(user=self.request.user, action="delete")

    def act(self, obj: Task) -> None:
        services.task_delete(actor=self.request.user, task=obj)
        messages.success(self.request, _("The task was deleted."))

    def get_success_url(self, obj: Task) -> str:
        return _safe_next(self.request, reverse("customers:task_list"))


class TaskStatusView(ScopedObjectMixin, View):
    """Complete (or reopen) a task with one click: htmx swaps the task's row."""

    module = MODULE
    model = Task
    permission_action = "edit"
    complete = True

    def get_queryset(self) -> QuerySet[Task]:
        return selectors.task_list(user=self.request.user, action="edit")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        task = self.get_object()
        if self.complete:
            task = services.task_complete(actor=request.user, task=task)
        else:
            task = services.task_reopen(actor=request.user, task=task)
        if wants_fragment(request):
            context = {"task": task, "can_edit": True, "compact": request.POST.get("compact") == "1"}
            return render(request, TEMPLATES + "_task_row.html", context)
        return HttpResponseRedirect(_safe_next(request, task.get_absolute_url()))


# --- calendar --------------------------------------------------------------------------------------


def _month(value: str, today: date) -> date:
    try:
        year, month = (int(part) for part in value.split("-", 1))
        return date(year, month, 1) if 1900 <= year <= 2999 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


class CalendarView(ModuleAccessMixin, View):
    """The user's tasks and meetings in a month grid, and their personal calendar feed."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_calendar(request)

    def render_calendar(self, request: HttpRequest, *, secret: str | None = None) -> HttpResponse:
        zone = timezone.get_current_timezone()
        today = timezone.now().astimezone(zone).date()
        first = _month(request.GET.get("month", ""), today)
        first_weekday = (int(get_format("FIRST_DAY_OF_WEEK")) + 6) % 7  # Django counts from Sunday
        month = selectors.calendar_month(
            user=request.user, year=first.year, month=first.month, zone=zone, first_weekday=first_weekday, today=today
        )
        feed_url = request.build_absolute_uri(reverse("customers:calendar_feed", args=[secret])) if secret else ""
        context = {
            "month": month,
            "weekday_labels": [WEEKDAYS_ABBR[day] for day in month.weekday_names],
            "today": today,
            "feed": selectors.calendar_feed_active(user=request.user),
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
        }
        return render(request, TEMPLATES + "calendar.html", context)


@method_decorator(never_cache, name="dispatch")
class CalendarFeedCreateView(CalendarView):
    """Make a new feed URL (the old one stops working) and show it, once."""

    def post(self, request: HttpRequest) -> HttpResponse:
        _feed, secret = services.calendar_feed_create(user=request.user)
        return self.render_calendar(request, secret=secret)


class CalendarFeedRevokeView(ModuleAccessMixin, View):
    module = MODULE

    def post(self, request: HttpRequest) -> HttpResponse:
        if services.calendar_feed_revoke(user=request.user):
            messages.success(request, _("The calendar feed was turned off. Calendar programs can no longer read it."))
        return HttpResponseRedirect(reverse("customers:calendar"))


def _feed_rate(group: str, request: HttpRequest) -> str:
    return str(getattr(settings, "CALENDAR_FEED_RATE", "60/m"))


def _feed_key(group: str, request: HttpRequest) -> str:
    """Requests are counted per feed: behind a reverse proxy every reader would share one address."""
    match = request.resolver_match
    return hash_secret(str(match.kwargs.get("secret", "")) if match else "")


@require_safe
@ratelimit(key=_feed_key, rate=_feed_rate, block=True)
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The personal iCalendar feed. No sign-in: the secret in the URL is the credential, so an unknown
    or revoked secret answers 404 like any missing page."""
    feed = selectors.calendar_feed_for_secret(secret=secret)
    if feed is None or not access.can(feed.user, MODULE, "view"):
        raise Http404
    services.calendar_feed_touch(feed=feed)
    user = feed.user
    base_url = f"{request.scheme}://{request.get_host()}"
    domain = (settings.CRM_BASE_URL.split("://", 1)[-1] or request.get_host()).split("/", 1)[0].split(":", 1)[0]
    body = build_feed(
        user=user,
        tasks=selectors.feed_tasks(user=user),
        meetings=selectors.feed_meetings(user=user),
        domain=domain,
        base_url=settings.CRM_BASE_URL or base_url,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
