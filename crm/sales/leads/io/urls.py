"""Pages of the lead import (included under ``leads/import/`` in the "sales" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.LeadImportView.as_view(), name="lead_import"),
    path("jobs/<uuid:pk>/", views.LeadImportJobView.as_view(), name="lead_import_job"),
    path("<str:token>/", views.LeadImportMapView.as_view(), name="lead_import_map"),
    path("<str:token>/preview/", views.LeadImportPreviewView.as_view(), name="lead_import_preview"),
]
