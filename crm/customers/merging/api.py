"""API of duplicates and merges."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
