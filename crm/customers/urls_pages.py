"""Pages of companies and contacts."""

from django.urls import path

from .views import companies, contacts, inline

urlpatterns = [
    path("contacts/", contacts.ContactListView.as_view(), name="contact_list"),
    path("contacts/new/", contacts.ContactFormView.as_view(), name="contact_create"),
    path("contacts/columns/", contacts.ContactColumnsView.as_view(), name="contact_columns"),
    path("contacts/bulk/", contacts.ContactBulkView.as_view(), name="contact_bulk"),
    path("contacts/<int:pk>/", contacts.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", contacts.ContactFormView.as_view(), name="contact_edit"),
    path("contacts/<int:pk>/inline/<str:field>/", inline.ContactInlineEditView.as_view(), name="contact_inline"),
    path("contacts/<int:pk>/delete/", contacts.ContactDeleteView.as_view(), name="contact_delete"),
    path("companies/", companies.CompanyListView.as_view(), name="company_list"),
    path("companies/new/", companies.CompanyFormView.as_view(), name="company_create"),
    path("companies/columns/", companies.CompanyColumnsView.as_view(), name="company_columns"),
    path("companies/bulk/", companies.CompanyBulkView.as_view(), name="company_bulk"),
    path("contacts/autocomplete/", contacts.ContactAutocompleteView.as_view(), name="contact_autocomplete"),
    path("companies/autocomplete/", companies.CompanyAutocompleteView.as_view(), name="company_autocomplete"),
    path("companies/<int:pk>/", companies.CompanyDetailView.as_view(), name="company_detail"),
    path("companies/<int:pk>/edit/", companies.CompanyFormView.as_view(), name="company_edit"),
    path("companies/<int:pk>/inline/<str:field>/", inline.CompanyInlineEditView.as_view(), name="company_inline"),
    path("companies/<int:pk>/delete/", companies.CompanyDeleteView.as_view(), name="company_delete"),
]
