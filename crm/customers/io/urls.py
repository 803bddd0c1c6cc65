from django.urls import path

from . import views

urlpatterns = [
    path("contacts/import/", views.ContactImportView.as_view(), name="contact_import"),
    path("contacts/import/vcard/", views.ContactVCardImportView.as_view(), name="contact_vcard_import"),
    path("contacts/import/jobs/<uuid:pk>/", views.ContactImportJobView.as_view(), name="contact_import_job"),
    path("contacts/import/<str:token>/", views.ContactImportMapView.as_view(), name="contact_import_map"),
    path(
        "contacts/import/<str:token>/preview/", views.ContactImportPreviewView.as_view(), name="contact_import_preview"
    ),
    path("contacts/export/", views.ContactExportView.as_view(), name="contact_export"),
    path("contacts/export/vcard/", views.ContactVCardExportView.as_view(), name="contact_vcard_export"),
    path("contacts/<int:pk>/vcard/", views.ContactVCardView.as_view(), name="contact_vcard"),
    path("companies/export/", views.CompanyExportView.as_view(), name="company_export"),
]
