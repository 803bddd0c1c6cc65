from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "sample"

router = SimpleRouter()
router.register("gadgets", views.GadgetViewSet, basename="gadget")

urlpatterns = [
    path("sample/gadgets/", views.GadgetListView.as_view(), name="gadget_list"),
    path("sample/gadgets/new/", views.GadgetFormView.as_view(), name="gadget_create"),
    path("sample/gadgets/<int:pk>/", views.GadgetDetailView.as_view(), name="gadget_detail"),
    path("sample/gadgets/<int:pk>/edit/", views.GadgetFormView.as_view(), name="gadget_edit"),
    path("sample/gadgets/<int:pk>/delete/", views.GadgetDeleteView.as_view(), name="gadget_delete"),
    path("api/v1/sample/", include((router.urls, "sample-api"))),
]
