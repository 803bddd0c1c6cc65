"""Pages that manage custom field definitions."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
