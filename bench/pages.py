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
    # Customers (targets at 1,000,000 contacts and 200,000 companies).
    Page("contacts", "/contacts/?lifecycle_stage=customer", "session", p95_target_ms=60),
    Page("contacts p.1000", "/contacts/?after={deep_contact_cursor}", "session", p95_target_ms=60),
    Page("search name", "/search/?q=Berg12", "session", p95_target_ms=80),
    Page("search phone", "/search/?q={phone}", "session", p95_target_ms=80),
    Page("contact 360", "/contacts/{busy_contact}/", "session", p95_target_ms=80),
    Page("API: contacts", "/api/v1/contacts/", "token"),
    # Sales (target: a pipeline with 20,000 open deals).
    Page("deal board", "/sales/board/{board_pipeline}/", "session", p95_target_ms=100),
    Page("deals", "/sales/deals/?status=open", "session"),
    Page("API: deals", "/api/v1/deals/", "token"),
]
