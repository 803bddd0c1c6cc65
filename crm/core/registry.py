"""Registries through which higher apps plug into the platform without the platform importing them.

Each app fills them in its ``AppConfig.ready()``:

- ``modules``: a permission module (label, actions, default grants of the built-in roles) and its
  navigation entry;
- ``search``: a provider of global search results;
- ``demo``: a builder of demo data, run in order by ``manage.py demo_data``;
- ``dashboard``: a widget on the home page;
- ``jobs``: the task that runs each kind of background job, and its name on pages;
- ``panels``: boxes on a customer's 360 page (deals, tickets, timeline, ...);
- ``attachments``: the kinds of record that take attached files (``register_attachments``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

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
    # "main" (below the summary), "side", or "summary": key facts inside the summary card (the
    # template renders ``datagrid-item`` blocks: open deals, lifetime revenue, open tickets...)
    column: str = "main"


@dataclass(frozen=True)
class DashboardWidget:
    key: str
    template: str
    module: str
    context: Callable[..., dict[str, Any]]  # context(user=) -> dict
    order: int = 100


@dataclass(frozen=True)
class AttachmentTarget:
    """A kind of record that takes attached files. Who may see, add or remove its files is decided by
    the record: viewing needs the record in ``model.objects.visible_to(user)`` and ``view`` on
    ``module``; adding and removing need ``edit`` on ``module`` (and the record in the edit scope)."""

    model: Any
    module: str

    @property
    def label(self) -> str:
        return str(self.model._meta.label_lower)


# Attachments name their record by an integer id (``Attachment.object_id``).
_INTEGER_KEYS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
}


class Registry:
    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.nav: list[NavItem] = []
        self.search: dict[str, SearchProvider] = {}
        self.demo: dict[str, DemoBuilder] = {}
        self.dashboard: dict[str, DashboardWidget] = {}
        self.jobs: dict[str, Any] = {}  # job kind -> Celery task taking the job id
        self.job_labels: dict[str, Any] = {}  # job kind -> what people see it called
        self.panels: dict[str, RecordPanel] = {}
        self.attachments: dict[str, AttachmentTarget] = {}

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

    def register_attachments(self, model: Any, *, module: str | None = None) -> AttachmentTarget:
        """Let records of ``model`` take attached files (pages, API, and the 360 page's panel once a
        ``RecordPanel`` from ``crm.core.attachments.panels.attachments_panel`` is registered too).

        ``module`` is the permission module of the records (the model's ``access_module`` when left
        out). Deleting a record deletes its attachments, rows and files, whatever path deletes it.
        """
        module = module or getattr(model, "access_module", "")
        if not module:
            raise ImproperlyConfigured(f"{model.__name__}: name the permission module its attachments follow.")
        if not callable(getattr(model._default_manager, "visible_to", None)):
            raise ImproperlyConfigured(f"{model.__name__} has no visible_to() queryset; it cannot take attachments.")
        concrete = model._meta.concrete_model or model
        if concrete._meta.pk.get_internal_type() not in _INTEGER_KEYS:
            raise ImproperlyConfigured(f"{model.__name__} needs an integer primary key to take attachments.")
        target = AttachmentTarget(model=concrete, module=module)
        self.attachments[target.label] = target
        from .attachments.signals import connect  # models are ready when apps register

        connect(concrete)
        return target

    def attachment_target(self, model_or_label: Any) -> AttachmentTarget | None:
        """The registration of a model (class, instance or ``"app.model"`` label), or ``None``."""
        if isinstance(model_or_label, str):
            return self.attachments.get(model_or_label.lower())
        meta = getattr(model_or_label, "_meta", None)
        if meta is None:
            return None
        concrete = meta.concrete_model or type(model_or_label)
        return self.attachments.get(concrete._meta.label_lower)

    def register_job(self, kind: str, task: Any, *, label: Any) -> None:
        """``task`` runs jobs of ``kind``; ``label`` (translatable) names them on pages."""
        self.jobs[kind] = task
        self.job_labels[kind] = label

    def sorted_modules(self) -> list[Module]:
        return sorted(self.modules.values(), key=lambda m: m.order)


platform = Registry()
