"""How the forecast and quotas plug into the platform (called from SalesConfig.ready): the journal of
quotas, the Forecast page in the navigation, the recompute job and the demo data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register pages, journal, demo data and tasks with the platform."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, platform

    from ..models import Quota
    from . import demo
    from . import tasks as _tasks  # registers the Celery task wherever Django starts (worker, beat)
    from .services import FORECAST_JOB

    journal.register(Quota)
    item = NavItem(_("Forecast"), "sales:forecast", "ti-chart-line", "sales", order=55)
    if all(existing.url_name != item.url_name for existing in platform.nav):
        platform.nav.append(item)
        platform.nav.sort(key=lambda entry: entry.order)
    platform.register_job(FORECAST_JOB, _tasks.forecast_compute_task, label=_("Forecast calculation"))
    platform.register_demo(DemoBuilder("sales-forecast", demo.build, order=45))
