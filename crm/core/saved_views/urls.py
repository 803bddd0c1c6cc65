"""Pages that save, apply, rename, share and delete saved views."""

from django.urls import path

from . import views

urlpatterns = [
    path("saved-views/", views.SavedViewListView.as_view(), name="saved_view_list"),
    path("saved-views/new/", views.SavedViewCreateView.as_view(), name="saved_view_create"),
    path("saved-views/<int:pk>/apply/", views.SavedViewApplyView.as_view(), name="saved_view_apply"),
    path("saved-views/<int:pk>/edit/", views.SavedViewEditView.as_view(), name="saved_view_edit"),
    path("saved-views/<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="saved_view_delete"),
]
