"""Pages that save, apply and delete saved views."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
