"""How duplicates and merges plug into the platform (called from CustomersConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register this part of the customers module with the platform (called from CustomersConfig.ready)."""
    from crm.core import journal
    from crm.core.registry import DemoBuilder, NavItem, RecordPanel, platform

    from ..activities import timeline
    from ..models import Merge
    from . import demo, panels
    from . import tasks as _tasks  # registers the Celery task wherever Django starts (worker, beat)

    # The merge itself is in the journal; its snapshot (copies of the merged records) is not.
    journal.register(Merge, exclude=["snapshot"])
    platform.register_job(_tasks.DUPLICATES_SCAN, _tasks.duplicates_scan_task, label=_("Duplicate scan"))
    platform.register_module(
        platform.modules["customers"],
        nav=[NavItem(_("Duplicates"), "customers:duplicate_list", "ti-git-merge", "customers", order=22)],
    )
    platform.register_panel(
        RecordPanel(
            key="merges",
            template="customers/merging/panel_merges.html",
            module="customers",
            models=("customers.contact", "customers.company"),
            context=panels.merges_context,
            order=5,
            column="side",
        )
    )
    timeline.register_source(panels.MERGE_SOURCE)
    platform.register_demo(DemoBuilder("duplicates", demo.build, order=90))
