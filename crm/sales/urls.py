"""The sales module's pages; each part keeps its own URL module."""

from django.urls import include, path

app_name = "sales"

urlpatterns = [
    path("", include("crm.sales.deals.urls")),  # pipelines, deals, board, win/loss, dashboard
    path("", include("crm.sales.leads.urls")),  # leads, conversion, assignment rules
    path("", include("crm.sales.webforms.urls")),  # web-to-lead forms (and their public endpoint)
    path("", include("crm.sales.scoring.urls")),  # scoring rules and models
    path("", include("crm.sales.quotes.urls")),  # products, price books, exchange rates, quotes
    path("", include("crm.sales.forecasting.urls")),  # forecast and quotas
]
