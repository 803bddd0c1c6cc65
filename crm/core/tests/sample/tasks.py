from celery import shared_task

from .models import Gadget
from .services import gadget_update


@shared_task(name="sample.gadget_rename_task")
def gadget_rename_task(gadget_id: int, name: str) -> None:
    gadget = Gadget.objects.get(pk=gadget_id)
    gadget_update(actor=None, gadget=gadget, data={"name": name}, version=None)


SLOW_JOB = "sample_slow"


@shared_task(name="sample.slow_job_task", acks_late=True)
def slow_job_task(job_id: str) -> None:
    from crm.core.services import job_run

    job_run(job_id=job_id, work=_slow_work)


def _slow_work(*, job, progress):  # type: ignore[no-untyped-def]
    """Hangs on its first run (so that a test can kill the worker there), then creates one row."""
    import time
    from pathlib import Path

    progress(10, "started")
    marker = Path(job.params["marker"])
    if not marker.exists():
        marker.write_text("first run")
        time.sleep(120)
    Gadget.objects.get_or_create(name=f"job-{job.pk}", defaults={"owner": job.created_by})
    return {"done": True}
