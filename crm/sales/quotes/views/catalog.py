"""Products and price books: the catalogue list with search, product form (with its prices), price
books with their prices per product."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core import access
from crm.core.exceptions import ConflictError
from crm.core.htmx import render_page
from crm.core.money import format_money
from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin, apply_validation_error, record_history_page

from ...models import PriceBook, Product
from .. import selectors
from ..catalog import services
from ..display import plain
from ..forms import PriceBookForm, PriceForm, ProductForm

MODULE = "sales"


def _permissions(user: Any) -> dict[str, bool]:
    return {
        "can_create": access.can(user, MODULE, "create"),
        "can_edit": access.can(user, MODULE, "edit"),
        "can_delete": access.can(user, MODULE, "delete"),
    }


# --- products ---------------------------------------------------------------------------------------------


class ProductListView(ModuleAccessMixin, View):
    """The catalogue: search by name or code, active or inactive products, 25 a page."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q", "").strip()[:100]
        status = request.GET.get("status", "active")
        active = {"active": True, "inactive": False}.get(status)
        products = selectors.product_list(user=request.user, query=query, active=active)
        page = paginate(request, products, per_page=25)
        for product in page.object_list:
            product.tax_display = f"{plain(product.tax_rate)}%"  # type: ignore[attr-defined]
        params = request.GET.copy()
        params.pop("page", None)
        context = {
            "page": page,
            "products": page.object_list,
            "query": query,
            "status": status if status in ("active", "inactive", "all") else "active",
            "querystring": params.urlencode(),
            **_permissions(request.user),
        }
        return render_page(
            request, "sales/quotes/product_list.html", context, fragment="sales/quotes/partials/_product_results.html"
        )


class _FormView(ModuleAccessMixin, View):
    """Create (no ``pk``) or edit a catalogue row through its service; a stale edit offers a reload."""

    template_name = ""
    module = MODULE
    model: type[Any] = Product
    form_class: type[Any] = ProductForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.permission_action = "edit" if "pk" in kwargs else "create"
        return super().dispatch(request, *args, **kwargs)

    def get_object(self) -> Any:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(self.queryset(), pk=self.kwargs["pk"])

    def queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        instance = self.get_object()
        return self.render_form(self.form_class(instance=instance), instance)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        instance = self.get_object()
        form = self.form_class(data=request.POST, instance=instance)
        if form.is_valid():
            try:
                saved = self.save(form, instance)
            except ConflictError as exc:
                form.add_error(None, exc)
                return self.render_form(form, instance, conflict=True, status=409)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return HttpResponseRedirect(self.success_url(saved))
        return self.render_form(form, instance, status=400)

    def context(self, instance: Any) -> dict[str, Any]:
        return {}

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": instance,
            "conflict": conflict,
            "history": record_history_page(self.request.user, instance) if instance is not None else [],
            **_permissions(self.request.user),
            **self.context(instance),
        }
        return render(self.request, self.template_name, context, status=status)

    def save(self, form: Any, instance: Any) -> Any:
        raise NotImplementedError

    def success_url(self, obj: Any) -> str:
        raise NotImplementedError


class ProductFormView(_FormView):
    template_name = "sales/quotes/product_form.html"

    def queryset(self) -> QuerySet[Product]:
        return selectors.product_list(user=self.request.user, action=self.permission_action)

    def context(self, instance: Any) -> dict[str, Any]:
        if instance is None:
            return {}
        prices = list(selectors.product_prices(product=instance))
        for entry in prices:
            entry.price_display = format_money(entry.unit_price, entry.price_book.currency)  # type: ignore[attr-defined]
        return {"prices": prices}

    def save(self, form: ProductForm, instance: Product | None) -> Product:
        data = form.service_data()
        if instance is None:
            product = services.product_create(actor=self.request.user, data=data)
            messages.success(self.request, _("The product “%(name)s” was added.") % {"name": product.name})
            return product
        product = services.product_update(
            actor=self.request.user, product=instance, data=data, version=form.cleaned_data["version"]
        )
        messages.success(self.request, _("The product “%(name)s” was saved.") % {"name": product.name})
        return product

    def success_url(self, obj: Product) -> str:
        return reverse("sales:product_list")


class ProductSetActiveView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        product = get_object_or_404(selectors.product_list(user=request.user, action="edit"), pk=pk)
        active = request.POST.get("active") == "1"
        try:
            services.product_set_active(actor=request.user, product=product, active=active)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            if active:
                messages.success(request, _("“%(name)s” is offered again.") % {"name": product.name})
            else:
                messages.success(
                    request,
                    _("“%(name)s” is no longer offered on new quotes; existing quotes keep it.")
                    % {"name": product.name},
                )
        return HttpResponseRedirect(request.POST.get("next") or reverse("sales:product_list"))


# --- price books ------------------------------------------------------------------------------------------


class PriceBookListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        books = list(selectors.price_book_list(user=request.user))
        counts = selectors.price_book_entry_counts(book_ids=[book.pk for book in books])
        for book in books:
            book.entry_count = counts.get(book.pk, 0)  # type: ignore[attr-defined]
        context = {"books": books, **_permissions(request.user)}
        return render(request, "sales/quotes/price_book_list.html", context)


class PriceBookFormView(_FormView):
    template_name = "sales/quotes/price_book_form.html"
    model = PriceBook
    form_class = PriceBookForm

    def queryset(self) -> QuerySet[PriceBook]:
        return selectors.price_book_list(user=self.request.user, action=self.permission_action)

    def save(self, form: PriceBookForm, instance: PriceBook | None) -> PriceBook:
        data = form.service_data()
        if instance is None:
            book = services.price_book_create(actor=self.request.user, data=data)
            messages.success(self.request, _("The price book “%(name)s” was added.") % {"name": book.name})
            return book
        book = services.price_book_update(
            actor=self.request.user, price_book=instance, data=data, version=form.cleaned_data["version"]
        )
        messages.success(self.request, _("The price book “%(name)s” was saved.") % {"name": book.name})
        return book

    def success_url(self, obj: PriceBook) -> str:
        return reverse("sales:price_book_detail", args=[obj.pk])


class PriceBookDetailView(ModuleAccessMixin, View):
    """A price book's prices, and (with the edit permission) a form to set the price of a product."""

    module = MODULE

    def get_book(self, pk: int, action: str = "view") -> PriceBook:
        return get_object_or_404(selectors.price_book_list(user=self.request.user, action=action), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        book = self.get_book(pk)
        return self.render_page(book, PriceForm(user=request.user))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Set the price of a product (added to the book when it had none)."""
        if not access.can(request.user, MODULE, "edit"):
            raise PermissionDenied
        book = self.get_book(pk, "edit")
        form = PriceForm(data=request.POST, user=request.user)
        if form.is_valid():
            try:
                services.price_book_set_price(
                    actor=request.user,
                    price_book=book,
                    product=form.cleaned_data["product"],
                    unit_price=form.cleaned_data["unit_price"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                product = form.cleaned_data["product"]
                messages.success(request, _("The price of “%(name)s” was saved.") % {"name": product.name})
                return HttpResponseRedirect(reverse("sales:price_book_detail", args=[book.pk]))
        return self.render_page(book, form, status=400)

    def render_page(self, book: PriceBook, form: PriceForm, *, status: int = 200) -> HttpResponse:
        entries = list(selectors.price_book_entries(price_book=book))
        for entry in entries:
            entry.price_display = format_money(entry.unit_price, book.currency)  # type: ignore[attr-defined]
        context = {
            "object": book,
            "entries": entries,
            "form": form,
            "history": record_history_page(self.request.user, book),
            **_permissions(self.request.user),
        }
        return render(self.request, "sales/quotes/price_book_detail.html", context, status=status)


class PriceBookRemovePriceView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int, product_pk: int) -> HttpResponse:
        book = get_object_or_404(selectors.price_book_list(user=request.user, action="edit"), pk=pk)
        product = get_object_or_404(selectors.product_list(user=request.user), pk=product_pk)
        services.price_book_remove_price(actor=request.user, price_book=book, product=product)
        messages.success(request, _("“%(name)s” has no price in this book any more.") % {"name": product.name})
        return HttpResponseRedirect(reverse("sales:price_book_detail", args=[book.pk]))


class PriceBookDeleteView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "delete"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        book = get_object_or_404(selectors.price_book_list(user=request.user, action="delete"), pk=pk)
        try:
            services.price_book_delete(actor=request.user, price_book=book)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(reverse("sales:price_book_detail", args=[book.pk]))
        messages.success(request, _("The price book “%(name)s” was deleted.") % {"name": book.name})
        return HttpResponseRedirect(reverse("sales:price_book_list"))
