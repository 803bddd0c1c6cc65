"""Pages of the duplicates list and the merge screen."""

from django.urls import path

from . import views

urlpatterns = [
    path("duplicates/", views.DuplicateListView.as_view(), name="duplicate_list"),
    path("duplicates/scan/", views.DuplicateScanView.as_view(), name="duplicate_scan"),
    path("duplicates/check/<str:entity>/", views.DuplicateCheckView.as_view(), name="duplicate_check"),
    path("duplicates/<int:pk>/dismiss/", views.DuplicateActionView.as_view(), name="duplicate_dismiss"),
    path("duplicates/<int:pk>/reopen/", views.DuplicateActionView.as_view(reopen=True), name="duplicate_reopen"),
    path("contacts/merge/", views.ContactMergeView.as_view(), name="contact_merge"),
    path("companies/merge/", views.CompanyMergeView.as_view(), name="company_merge"),
    path("merges/<int:pk>/undo/", views.MergeUndoView.as_view(), name="merge_undo"),
]
