"""Pages of the forecast and of quotas."""

from django.urls import path

from . import views

urlpatterns = [
    path("forecast/", views.ForecastView.as_view(), name="forecast"),
    path("forecast/recompute/", views.ForecastRecomputeView.as_view(), name="forecast_recompute"),
    path("quotas/", views.QuotaListView.as_view(), name="quota_list"),
    path("quotas/people/<int:pk>/", views.QuotaPersonRowView.as_view(), name="quota_row_person"),
    path("quotas/teams/<int:pk>/", views.QuotaTeamRowView.as_view(), name="quota_row_team"),
]
