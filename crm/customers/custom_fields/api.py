"""API of custom field definitions."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
