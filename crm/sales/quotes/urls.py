"""Pages of products, price books, exchange rates (Settings) and quotes."""

from django.urls import path

from .views import catalog, quotes, rates

urlpatterns = [
    path("products/", catalog.ProductListView.as_view(), name="product_list"),
    path("products/new/", catalog.ProductFormView.as_view(), name="product_create"),
    path("products/<int:pk>/", catalog.ProductFormView.as_view(), name="product_edit"),
    path("products/<int:pk>/active/", catalog.ProductSetActiveView.as_view(), name="product_set_active"),
    path("price-books/", catalog.PriceBookListView.as_view(), name="price_book_list"),
    path("price-books/new/", catalog.PriceBookFormView.as_view(), name="price_book_create"),
    path("price-books/<int:pk>/", catalog.PriceBookDetailView.as_view(), name="price_book_detail"),
    path("price-books/<int:pk>/edit/", catalog.PriceBookFormView.as_view(), name="price_book_edit"),
    path("price-books/<int:pk>/delete/", catalog.PriceBookDeleteView.as_view(), name="price_book_delete"),
    path(
        "price-books/<int:pk>/prices/<int:product_pk>/remove/",
        catalog.PriceBookRemovePriceView.as_view(),
        name="price_book_remove_price",
    ),
    path("settings/exchange-rates/", rates.ExchangeRateListView.as_view(), name="exchange_rate_list"),
    path(
        "settings/exchange-rates/<int:pk>/delete/", rates.ExchangeRateDeleteView.as_view(), name="exchange_rate_delete"
    ),
    path("quotes/", quotes.QuoteListView.as_view(), name="quote_list"),
    path("quotes/new/", quotes.QuoteFormView.as_view(), name="quote_create"),
    path("quotes/line-row/", quotes.QuoteLineRowView.as_view(), name="quote_line_row"),
    path("quotes/line-product/", quotes.QuoteLineProductView.as_view(), name="quote_line_product"),
    path("quotes/preview/", quotes.QuotePreviewView.as_view(), name="quote_preview"),
    path("quotes/<int:pk>/", quotes.QuoteDetailView.as_view(), name="quote_detail"),
    path("quotes/<int:pk>/edit/", quotes.QuoteFormView.as_view(), name="quote_edit"),
    path("quotes/<int:pk>/pdf/", quotes.QuotePdfView.as_view(), name="quote_pdf"),
    path("quotes/<int:pk>/send/", quotes.QuoteSendView.as_view(), name="quote_send"),
    path("quotes/<int:pk>/accept/", quotes.QuoteAcceptView.as_view(), name="quote_accept"),
    path("quotes/<int:pk>/decline/", quotes.QuoteDeclineView.as_view(), name="quote_decline"),
    path("quotes/<int:pk>/copy/", quotes.QuoteDuplicateView.as_view(), name="quote_duplicate"),
    path("quotes/<int:pk>/delete/", quotes.QuoteDeleteView.as_view(), name="quote_delete"),
]
