"""Pages that manage custom field definitions (Settings → Custom fields)."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/custom-fields/", views.CustomFieldListView.as_view(), name="custom_field_list"),
    path("settings/custom-fields/new/", views.CustomFieldFormView.as_view(), name="custom_field_create"),
    path("settings/custom-fields/<int:pk>/", views.CustomFieldFormView.as_view(), name="custom_field_edit"),
    path(
        "settings/custom-fields/<int:pk>/active/",
        views.CustomFieldSetActiveView.as_view(),
        name="custom_field_set_active",
    ),
    path("settings/custom-fields/<int:pk>/move/", views.CustomFieldMoveView.as_view(), name="custom_field_move"),
    path("settings/custom-fields/<int:pk>/delete/", views.CustomFieldDeleteView.as_view(), name="custom_field_delete"),
]
