from django.urls import include, path

from .views import pages

app_name = "core"

urlpatterns = [
    path("", pages.DashboardView.as_view(), name="dashboard"),
    path("search/", pages.SearchView.as_view(), name="search"),
    path("notifications/", pages.NotificationListView.as_view(), name="notification_list"),
    path("notifications/read/", pages.notification_read, name="notification_read_all"),
    path("notifications/<int:pk>/read/", pages.notification_read, name="notification_read"),
    path("jobs/<uuid:pk>/", pages.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<uuid:pk>/download/", pages.JobDownloadView.as_view(), name="job_download"),
    path("settings/audit-log/", pages.AuditLogView.as_view(), name="audit_log"),
    path("settings/audit-log/export/", pages.AuditLogExportView.as_view(), name="audit_log_export"),
    path("", include("crm.core.attachments.urls")),
    path("", include("crm.core.saved_views.urls")),
]
