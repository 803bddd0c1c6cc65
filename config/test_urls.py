"""The product's URLs plus the test-only sample app."""

from django.urls import include, path

from .urls import handler400, handler403, handler404, handler500  # noqa: F401
from .urls import urlpatterns as product_urlpatterns

urlpatterns = [*product_urlpatterns, path("", include("crm.core.tests.sample.urls"))]
