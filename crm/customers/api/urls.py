from rest_framework.routers import SimpleRouter

from ..activities.api import router as activities_router
from ..custom_fields.api import router as custom_fields_router
from ..io.api import router as io_router
from ..merging.api import router as merging_router
from . import tags, views

app_name = "customers-api"

router = SimpleRouter()
router.register("companies", views.CompanyViewSet, basename="company")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("tags", tags.TagViewSet, basename="tag")

urlpatterns = [*router.urls, *activities_router.urls, *io_router.urls, *merging_router.urls, *custom_fields_router.urls]
