"""Pages of the duplicates list and the merge screen."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
