"""How this part of the sales module plugs into the platform (called from SalesConfig.ready)."""

from __future__ import annotations


def register() -> None:
    """Register pages, journal, search, timeline sources, demo data and tasks with the platform."""
