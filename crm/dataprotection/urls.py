"""Pages of privacy requests, mounted at /privacy/."""

from django.urls import path

from . import backup_views, retention_views, views

app_name = "dataprotection"

urlpatterns = [
    path("", views.RequestListView.as_view(), name="request_list"),
    path("new/", views.RequestCreateView.as_view(), name="request_create"),
    path("<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("<int:pk>/start/", views.RequestStartView.as_view(), name="request_start"),
    path("<int:pk>/close/", views.RequestCloseView.as_view(), name="request_close"),
    path("<int:pk>/download/", views.RequestDownloadView.as_view(), name="request_download"),
    path("retention/", retention_views.RetentionListView.as_view(), name="retention_list"),
    path("retention/new/", retention_views.RetentionCreateView.as_view(), name="retention_create"),
    path("retention/<int:pk>/", retention_views.RetentionEditView.as_view(), name="retention_edit"),
    path("retention/<int:pk>/dry-run/", retention_views.RetentionDryRunView.as_view(), name="retention_dry_run"),
    path("retention/<int:pk>/apply/", retention_views.RetentionApplyView.as_view(), name="retention_apply"),
    path("backups/", backup_views.BackupListView.as_view(), name="backup_list"),
    path("backups/settings/", backup_views.BackupSettingsView.as_view(), name="backup_settings"),
    path("backups/start/", backup_views.BackupStartView.as_view(), name="backup_start"),
    path("backups/verify/", backup_views.BackupVerifyView.as_view(), name="backup_verify"),
    path("backups/recipients/", backup_views.RecipientAddView.as_view(), name="backup_recipient_add"),
    path(
        "backups/recipients/<int:pk>/remove/",
        backup_views.RecipientRemoveView.as_view(),
        name="backup_recipient_remove",
    ),
]
