"""How activities, tasks and the calendar plug into the platform (called from CustomersConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register this part of the customers module with the platform (called from CustomersConfig.ready)."""
    from crm.core import journal
    from crm.core.registry import DashboardWidget, DemoBuilder, NavItem, RecordPanel, platform

    from ..models import Activity, Task
    from . import demo, panels, timeline
    from . import tasks as _tasks  # noqa: F401 - registers the Celery tasks wherever Django starts (worker, beat)

    journal.register(Activity)
    journal.register(Task, exclude=["reminded_at"])  # bookkeeping of the reminder task

    customers = platform.modules["customers"]
    platform.register_module(
        customers,
        nav=[
            NavItem(_("Activities"), "customers:activity_list", "ti-activity", "customers", order=25),
            NavItem(_("My tasks"), "customers:task_list", "ti-checklist", "customers", order=30),
            NavItem(_("Calendar"), "customers:calendar", "ti-calendar", "customers", order=35),
        ],
    )
    records = ("customers.contact", "customers.company")
    platform.register_panel(
        RecordPanel(
            key="timeline",
            template="customers/activities/panel_timeline.html",
            module="customers",
            models=records,
            context=panels.timeline_context,
            order=10,
        )
    )
    platform.register_panel(
        RecordPanel(
            key="open_tasks",
            template="customers/activities/panel_open_tasks.html",
            module="customers",
            models=records,
            context=panels.open_tasks_context,
            order=10,
            column="side",
        )
    )
    platform.register_dashboard(
        DashboardWidget(
            key="my_tasks",
            template="customers/activities/widget_tasks.html",
            module="customers",
            context=panels.tasks_widget_context,
            order=10,
        )
    )
    platform.register_demo(DemoBuilder("activities", demo.build, order=30))
    timeline.register_source(timeline.ACTIVITY_SOURCE)
    timeline.register_source(timeline.CHANGE_SOURCE)
