"""The pages the load runner measures, in order, and the targets some of them must meet.

A module adds its busy pages here (a list page, a detail page, its API list), so that every new
list is measured at a million rows. ``auth`` says how the page is reached: ``None`` anonymous,
``"session"`` with the signed-in browser session, ``"token"`` with ``Authorization: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["session", "token"] | None

WORKER_MEMORY_TARGET_MB = 150.0


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    auth: Auth
    p95_target_ms: float | None = None


PAGES: list[Page] = [
    Page("login page", "/accounts/login/", None),
    Page("dashboard", "/", "session", p95_target_ms=30),
    Page("API: me", "/api/v1/me/", "token", p95_target_ms=20),
    Page("audit log", "/settings/audit-log/", "session"),
    Page("API: journal", "/api/v1/journal/", "token"),
]
