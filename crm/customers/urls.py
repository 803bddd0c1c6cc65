"""The customers module's pages; each part keeps its own URL module."""

from django.urls import include, path

app_name = "customers"

urlpatterns = [
    path("", include("crm.customers.urls_pages")),  # companies and contacts
    path("", include("crm.customers.activities.urls")),  # activities, tasks, calendar
    path("", include("crm.customers.io.urls")),  # import, export, vCard
    path("", include("crm.customers.merging.urls")),  # duplicates and merges
    path("", include("crm.customers.custom_fields.urls")),  # custom field definitions
]
