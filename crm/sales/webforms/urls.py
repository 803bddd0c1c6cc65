"""Pages of web forms: Settings → Web forms, and the public form, endpoint and consent link."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/web-forms/", views.LeadFormListView.as_view(), name="lead_form_list"),
    path("settings/web-forms/new/", views.LeadFormFormView.as_view(), name="lead_form_create"),
    path("settings/web-forms/<int:pk>/", views.LeadFormDetailView.as_view(), name="lead_form_detail"),
    path("settings/web-forms/<int:pk>/edit/", views.LeadFormFormView.as_view(), name="lead_form_edit"),
    path("settings/web-forms/<int:pk>/active/", views.LeadFormSetActiveView.as_view(), name="lead_form_set_active"),
    path("settings/web-forms/<int:pk>/delete/", views.LeadFormDeleteView.as_view(), name="lead_form_delete"),
    # Public: no sign-in.
    path("f/consent/<str:token>/", views.WebFormConsentView.as_view(), name="web_form_consent"),
    path("f/<str:token>/", views.WebFormPageView.as_view(), name="web_form_page"),
    path("f/<str:token>/submit/", views.WebFormSubmitView.as_view(), name="web_form_submit"),
]
