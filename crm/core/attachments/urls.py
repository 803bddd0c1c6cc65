"""Pages (panel, upload, preview, download, delete) of attachments, in the ``core`` namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "attachments/<str:record_type>/<int:record_id>/",
        views.AttachmentPanelView.as_view(),
        name="attachment_panel",
    ),
    path(
        "attachments/<str:record_type>/<int:record_id>/upload/",
        views.AttachmentUploadView.as_view(),
        name="attachment_upload",
    ),
    path("attachments/<int:pk>/download/", views.AttachmentDownloadView.as_view(), name="attachment_download"),
    path("attachments/<int:pk>/preview/", views.AttachmentPreviewView.as_view(), name="attachment_preview"),
    path("attachments/<int:pk>/delete/", views.AttachmentDeleteView.as_view(), name="attachment_delete"),
]
