from django.apps import AppConfig


class SampleConfig(AppConfig):
    name = "crm.core.tests.sample"
    label = "sample"

    def ready(self) -> None:
        from crm.core import journal
        from crm.core.registry import Module, platform

        from .models import Gadget

        journal.register(Gadget)
        from .tasks import SLOW_JOB, slow_job_task

        platform.register_job(SLOW_JOB, slow_job_task, label="Slow sample job")
        platform.register_module(
            Module(key="sample", label="Sample", defaults={"sales_rep": ("view", "create", "edit")})
        )
