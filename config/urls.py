from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crm.core.views.health import healthz

handler400 = "crm.core.views.errors.bad_request"
handler403 = "crm.core.views.errors.permission_denied"
handler404 = "crm.core.views.errors.page_not_found"
handler500 = "crm.core.views.errors.server_error"

api_v1 = [
    path("", include("crm.core.api.urls")),
    path("", include("crm.accounts.api.urls")),
    path("", include("crm.customers.api.urls")),
    path("", include("crm.sales.api.urls")),
    path("", include("crm.dataprotection.api")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("crm.accounts.urls")),
    path("", include("crm.customers.urls")),
    path("sales/", include("crm.sales.urls")),
    path("privacy/", include("crm.dataprotection.urls")),
    path("", include("crm.core.urls")),
]
