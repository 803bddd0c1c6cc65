"""Who is making a change, and by which path: set once at each entry point, read by the journal."""

from __future__ import annotations

import contextvars
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from .choices import ChangeSource


@dataclass(frozen=True)
class ChangeContext:
    actor_id: int | None = None
    actor_repr: str = ""
    source: str = ChangeSource.SYSTEM
    request_id: str = ""
    # The person data is shown to (masking of sensitive fields): the actor, or whoever is signed in
    # (possibly nobody) while serving a request. ``SYSTEM`` when no person is behind the work.
    viewer: Any = field(default=None, compare=False, repr=False)


def _default_source() -> str:
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0.endswith("manage.py") and len(sys.argv) > 1 and sys.argv[1] not in {"runserver"}:
        return ChangeSource.COMMAND
    return ChangeSource.SYSTEM


_current: contextvars.ContextVar[ChangeContext | None] = contextvars.ContextVar("crm_change_context", default=None)


def current() -> ChangeContext:
    ctx = _current.get()
    return ctx if ctx is not None else ChangeContext(source=_default_source())


@contextmanager
def change_context(
    *, actor: Any = None, source: str | None = None, request_id: str | None = None, viewer: Any = None
) -> Iterator[None]:
    """Run a block with the given actor and source (missing values keep the surrounding ones). The
    actor is also the viewer unless ``viewer`` says who (a request's anonymous visitor)."""
    base = current()
    changes: dict[str, Any] = {}
    if actor is not None:
        changes["actor_id"] = getattr(actor, "pk", None)
        changes["actor_repr"] = str(getattr(actor, "get_username", lambda: actor)())
        changes["viewer"] = actor
    if viewer is not None:
        changes["viewer"] = viewer
    if source is not None:
        changes["source"] = source
    if request_id is not None:
        changes["request_id"] = request_id
    token = _current.set(replace(base, **changes))
    try:
        yield
    finally:
        _current.reset(token)


def set_actor(actor: Any) -> None:
    """Update the actor of the current context in place (the API authenticates after middleware ran)."""
    base = current()
    _current.set(
        replace(
            base,
            actor_id=getattr(actor, "pk", None),
            actor_repr=str(actor.get_username()) if actor else "",
            viewer=actor if actor is not None else base.viewer,
        )
    )


def set_source(source: str) -> None:
    _current.set(replace(current(), source=source))


def new_request_id() -> str:
    return uuid.uuid4().hex
