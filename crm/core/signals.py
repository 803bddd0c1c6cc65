"""Infrastructure signals: changes made inside a Celery task are journaled as coming from a task."""

from __future__ import annotations

import contextlib
from typing import Any

from celery import signals as celery_signals

from . import context
from .choices import ChangeSource

_tokens: dict[str, Any] = {}


@celery_signals.task_prerun.connect
def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _tokens[task_id] = context._current.set(
            context.ChangeContext(source=ChangeSource.TASK, request_id=task_id[:32].replace("-", ""))
        )


@celery_signals.task_postrun.connect
def _task_finished(task_id: str | None = None, **kwargs: Any) -> None:
    token = _tokens.pop(task_id or "", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # reset from another context (eager tasks inside a request)
            context._current.reset(token)
