"""The sales module's API; each part keeps its own router."""

from ..deals.api import router as deals_router
from ..forecasting.api import router as forecasting_router
from ..leads.api import router as leads_router
from ..quotes.api import router as quotes_router
from ..scoring.api import router as scoring_router
from ..webforms.api import router as webforms_router

app_name = "sales-api"

urlpatterns = [
    *deals_router.urls,
    *leads_router.urls,
    *webforms_router.urls,
    *scoring_router.urls,
    *quotes_router.urls,
    *forecasting_router.urls,
]
