from celery import shared_task

from .models import Gadget
from .services import gadget_update


@shared_task(name="sample.gadget_rename_task")
def gadget_rename_task(gadget_id: int, name: str) -> None:
    gadget = Gadget.objects.get(pk=gadget_id)
    gadget_update(actor=None, gadget=gadget, data={"name": name}, version=None)
