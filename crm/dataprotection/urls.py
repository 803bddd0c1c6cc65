"""Pages of privacy requests, mounted at /privacy/."""

from django.urls import path

from . import views

app_name = "dataprotection"

urlpatterns = [
    path("", views.RequestListView.as_view(), name="request_list"),
    path("new/", views.RequestCreateView.as_view(), name="request_create"),
    path("<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("<int:pk>/start/", views.RequestStartView.as_view(), name="request_start"),
    path("<int:pk>/close/", views.RequestCloseView.as_view(), name="request_close"),
    path("<int:pk>/download/", views.RequestDownloadView.as_view(), name="request_download"),
]
