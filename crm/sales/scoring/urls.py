"""Pages of lead scoring (Settings → Lead scoring)."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/lead-scoring/", views.ScoringView.as_view(), name="lead_scoring"),
    path("settings/lead-scoring/rules/new/", views.RuleFormView.as_view(), name="scoring_rule_create"),
    path("settings/lead-scoring/rules/<int:pk>/", views.RuleFormView.as_view(), name="scoring_rule_edit"),
    path("settings/lead-scoring/rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="scoring_rule_delete"),
    path("settings/lead-scoring/train/", views.TrainView.as_view(), name="scoring_model_train"),
    path("settings/lead-scoring/weight/", views.WeightView.as_view(), name="scoring_weight"),
]
