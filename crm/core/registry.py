"""Registries through which higher apps plug into the platform without the platform importing them.

Each app fills them in its ``AppConfig.ready()``:

- ``modules``: a permission module (label, actions, default grants of the built-in roles) and its
  navigation entry;
- ``search``: a provider of global search results;
- ``demo``: a builder of demo data, run in order by ``manage.py demo_data``;
- ``dashboard``: a widget on the home page;
- ``jobs``: the task that runs each kind of background job;
- ``panels``: boxes on a customer's 360 page (deals, tickets, timeline, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .choices import Action

ALL_ACTIONS: tuple[str, ...] = tuple(Action.values)


@dataclass(frozen=True)
class Module:
    key: str
    label: Any
    actions: tuple[str, ...] = ALL_ACTIONS
    # built-in role slug -> actions granted by default
    defaults: dict[str, tuple[str, ...]] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    icon: str
    module: str  # shown when the user may view this module
    order: int = 100
    section: str = "main"  # "main" or "admin"


@dataclass(frozen=True)
class SearchResult:
    type_label: Any
    title: str
    url: str
    subtitle: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: Any
    module: str
    search: Callable[..., list[SearchResult]]  # search(user=, query=, limit=) -> results already scoped


@dataclass(frozen=True)
class DemoBuilder:
    key: str
    build: Callable[..., None]  # build(*, stdout) -> None; must be idempotent
    order: int = 100


@dataclass(frozen=True)
class RecordPanel:
    """A box on a customer's 360 page filled by another module (open deals, tickets, timeline...).

    ``models`` names the pages it appears on (``"customers.contact"``, ``"customers.company"``);
    ``context(user=, obj=)`` returns the template's context, already scoped to the user, or ``None``
    to leave the panel out.
    """

    key: str
    template: str
    module: str
    models: tuple[str, ...]
    context: Callable[..., dict[str, Any] | None]
    order: int = 100
    column: str = "main"  # "main" (below the summary) or "side"


@dataclass(frozen=True)
class DashboardWidget:
    key: str
    template: str
    module: str
    context: Callable[..., dict[str, Any]]  # context(user=) -> dict
    order: int = 100


class Registry:
    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.nav: list[NavItem] = []
        self.search: dict[str, SearchProvider] = {}
        self.demo: dict[str, DemoBuilder] = {}
        self.dashboard: dict[str, DashboardWidget] = {}
        self.jobs: dict[str, Any] = {}  # job kind -> Celery task taking the job id
        self.panels: dict[str, RecordPanel] = {}

    def register_module(self, module: Module, nav: Iterable[NavItem] = ()) -> None:
        self.modules[module.key] = module
        self.nav.extend(nav)
        self.nav.sort(key=lambda item: item.order)

    def register_search(self, provider: SearchProvider) -> None:
        self.search[provider.key] = provider

    def register_demo(self, builder: DemoBuilder) -> None:
        self.demo[builder.key] = builder

    def register_dashboard(self, widget: DashboardWidget) -> None:
        self.dashboard[widget.key] = widget

    def register_panel(self, panel: RecordPanel) -> None:
        self.panels[panel.key] = panel

    def panels_for(self, model_label: str, *, column: str | None = None) -> list[RecordPanel]:
        found = [p for p in self.panels.values() if model_label in p.models and (column is None or p.column == column)]
        return sorted(found, key=lambda p: p.order)

    def register_job(self, kind: str, task: Any) -> None:
        self.jobs[kind] = task

    def sorted_modules(self) -> list[Module]:
        return sorted(self.modules.values(), key=lambda m: m.order)


platform = Registry()
