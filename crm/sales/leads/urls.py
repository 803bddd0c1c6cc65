"""Pages of leads, their conversion, the assignment rules and the sales settings ("sales" namespace)."""

from django.urls import include, path

from . import settings_views, views

urlpatterns = [
    path("leads/", views.LeadListView.as_view(), name="lead_list"),
    path("leads/new/", views.LeadFormView.as_view(), name="lead_create"),
    path("leads/bulk/", views.LeadBulkView.as_view(), name="lead_bulk"),
    path("leads/import/", include("crm.sales.leads.io.urls")),
    path("leads/<int:pk>/", views.LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/edit/", views.LeadFormView.as_view(), name="lead_edit"),
    path("leads/<int:pk>/delete/", views.LeadDeleteView.as_view(), name="lead_delete"),
    path("leads/<int:pk>/status/", views.LeadStatusView.as_view(), name="lead_status"),
    path("leads/<int:pk>/activities/", views.LeadActivityView.as_view(), name="lead_activity"),
    path("leads/<int:pk>/convert/", views.LeadConvertView.as_view(), name="lead_convert"),
    path("settings/lead-assignment/", settings_views.AssignmentRuleListView.as_view(), name="assignment_rule_list"),
    path(
        "settings/lead-assignment/new/", settings_views.AssignmentRuleFormView.as_view(), name="assignment_rule_create"
    ),
    path(
        "settings/lead-assignment/<int:pk>/",
        settings_views.AssignmentRuleFormView.as_view(),
        name="assignment_rule_edit",
    ),
    path(
        "settings/lead-assignment/<int:pk>/move/",
        settings_views.AssignmentRuleMoveView.as_view(),
        name="assignment_rule_move",
    ),
    path(
        "settings/lead-assignment/<int:pk>/delete/",
        settings_views.AssignmentRuleDeleteView.as_view(),
        name="assignment_rule_delete",
    ),
    path("settings/sales/", settings_views.SalesSettingsView.as_view(), name="sales_settings"),
]
