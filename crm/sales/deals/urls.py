from django.urls import path

from . import board, pipelines, reports, views

urlpatterns = [
    path("deals/", views.DealListView.as_view(), name="deal_list"),
    path("deals/new/", views.DealFormView.as_view(), name="deal_create"),
    path("deals/<int:pk>/", views.DealDetailView.as_view(), name="deal_detail"),
    path("deals/<int:pk>/edit/", views.DealFormView.as_view(), name="deal_edit"),
    path("deals/<int:pk>/close/", views.DealCloseView.as_view(), name="deal_close"),
    path("deals/<int:pk>/delete/", views.DealDeleteView.as_view(), name="deal_delete"),
    path("deals/<int:pk>/move/", board.DealMoveView.as_view(), name="deal_move"),
    path("deals/<int:pk>/activities/", views.DealActivityView.as_view(), name="deal_activity"),
    path("deals/<int:pk>/products/", views.DealProductsView.as_view(), name="deal_products"),
    path("board/", board.BoardRedirectView.as_view(), name="board_default"),
    path("board/<int:pk>/", board.BoardView.as_view(), name="board"),
    path("board/<int:pk>/stages/<int:stage>/", board.BoardColumnView.as_view(), name="board_column"),
    path("win-loss/", reports.WinLossView.as_view(), name="win_loss"),
    path("dashboard/", reports.SalesDashboardView.as_view(), name="dashboard"),
    path("settings/pipelines/", pipelines.PipelineListView.as_view(), name="pipeline_list"),
    path("settings/pipelines/new/", pipelines.PipelineFormView.as_view(), name="pipeline_create"),
    path("settings/pipelines/<int:pk>/", pipelines.PipelineFormView.as_view(), name="pipeline_edit"),
    path("settings/loss-reasons/", pipelines.LossReasonsView.as_view(), name="loss_reasons"),
    path("settings/competitors/", pipelines.CompetitorsView.as_view(), name="competitors"),
]
