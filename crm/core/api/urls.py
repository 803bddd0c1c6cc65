from django.urls import path
from rest_framework.routers import SimpleRouter

from ..attachments.api import router as attachments_router
from . import views

app_name = "core-api"

router = SimpleRouter()
router.register("journal", views.JournalViewSet, basename="journal")
router.register("jobs", views.JobViewSet, basename="job")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [path("search/", views.SearchView.as_view(), name="search"), *router.urls, *attachments_router.urls]
