"""System checks of the platform's production set-up (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, deploy=True)
def redis_in_production(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.PRODUCTION and not settings.REDIS_URL:
        return [
            Warning(
                "REDIS_URL is not set: the task queue, cache and rate limits fall back to the local file system, "
                "which only works while the CRM runs on one machine.",
                hint="Set REDIS_URL (e.g. redis://redis:6379/0) in production.",
                id="crm.W001",
            )
        ]
    return []
