from django.db import models
from django.urls import reverse

from crm.core.models import OwnedModel


class Gadget(OwnedModel):
    access_module = "sample"

    name = models.CharField(max_length=100)
    notes = models.TextField(blank=True)
    tags = models.ManyToManyField("sample.Label", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sample:gadget_detail", args=[self.pk])


class Label(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name
