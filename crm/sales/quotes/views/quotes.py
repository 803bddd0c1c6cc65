"""Quote pages: the list, the quote itself, the form with its lines (rows added, removed and priced
with htmx, totals recomputed as one types), the PDF, sending by email, accept, decline, copy, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.core import access
from crm.core.exceptions import ConflictError
from crm.core.money import format_money
from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin, ObjectActionView, apply_validation_error, record_history_page

from ...choices import DealStatus, QuoteStatus
from ...deals import selectors as deal_selectors
from ...models import Deal, Quote
from .. import mail, pricing, selectors, services
from ..display import percent, plain
from ..forms import LINE_PREFIX, LineForm, QuoteForm, SendForm, apply_quote_errors, line_formset, line_rows
from ..forms import product_choices as line_product_choices
from . import deal_url

MODULE = "sales"


def _permissions(user: Any) -> dict[str, bool]:
    return {
        "can_create": access.can(user, MODULE, "create"),
        "can_edit": access.can(user, MODULE, "edit"),
        "can_delete": access.can(user, MODULE, "delete"),
    }


def _totals_display(totals: Any, currency: str) -> dict[str, str]:
    return {
        name: format_money(getattr(totals, name), currency)
        for name in ("subtotal", "discount_total", "tax_total", "total")
    }


class _QuoteMixin(ModuleAccessMixin):
    module = MODULE
    request: HttpRequest

    def get_quote(self, pk: int, action: str = "view") -> Quote:
        return get_object_or_404(selectors.quote_list(user=self.request.user, action=action), pk=pk)


# --- list and detail --------------------------------------------------------------------------------------


class QuoteListView(_QuoteMixin, View):
    """Every quote the user may see, newest first, by status."""

    def get(self, request: HttpRequest) -> HttpResponse:
        status = request.GET.get("status", "")
        quotes: QuerySet[Quote] = selectors.quote_list(user=request.user)
        if status in QuoteStatus.values:
            quotes = quotes.filter(status=status)
        else:
            status = ""
        page = paginate(request, quotes.order_by("-created_at", "-id"), per_page=25)
        selectors.with_display(page.object_list)
        params = request.GET.copy()
        params.pop("page", None)
        context = {
            "page": page,
            "quotes": page.object_list,
            "status": status,
            "statuses": QuoteStatus.choices,
            "querystring": params.urlencode(),
        }
        return render(request, "sales/quotes/quote_list.html", context)


class QuoteDetailView(_QuoteMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = self.get_quote(pk)
        lines = list(selectors.quote_lines(quote=quote))
        for line in lines:
            line.quantity_display = plain(line.quantity)  # type: ignore[attr-defined]
            line.discount_display = percent(line.discount_percent)  # type: ignore[attr-defined]
            line.tax_display = percent(line.tax_rate)  # type: ignore[attr-defined]
            line.unit_price_display = format_money(line.unit_price, quote.currency)  # type: ignore[attr-defined]
            line.total_display = format_money(line.line_total, quote.currency)  # type: ignore[attr-defined]
        deal = quote.deal
        deal_open = deal.status == DealStatus.OPEN
        open_quote = quote.status in services.OPEN_STATUSES
        permissions = _permissions(request.user)
        context = {
            "object": quote,
            "quote": quote,
            "lines": lines,
            "totals": _totals_display(quote, quote.currency),
            "deal": deal,
            "deal_url": deal_url(deal),
            "history": record_history_page(request.user, quote),
            "editable": deal_open and quote.status == QuoteStatus.DRAFT and permissions["can_edit"],
            "can_send": deal_open and open_quote and permissions["can_edit"],
            "can_decide": open_quote and deal.status != DealStatus.LOST and permissions["can_edit"],
            "can_copy": deal_open and permissions["can_create"],
            "deletable": quote.status != QuoteStatus.ACCEPTED and permissions["can_delete"],
            **permissions,
        }
        return render(request, "sales/quotes/quote_detail.html", context)


class QuotePdfView(_QuoteMixin, View):
    """The quote as a PDF: downloaded, or shown in the browser with ``?inline=1``."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = self.get_quote(pk)
        from ..pdf import render_quote_pdf  # reportlab: loaded only when a PDF is made

        response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
        disposition = "inline" if request.GET.get("inline") else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="{mail.attachment_name(quote)}"'
        return response


# --- the form -----------------------------------------------------------------------------------------------


class QuoteFormView(_QuoteMixin, View):
    """New quote for a deal (``?deal=<id>``, or ``deal`` in the form) or edit a draft."""

    template_name = "sales/quotes/quote_form.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.permission_action = "edit" if "pk" in kwargs else "create"
        return super().dispatch(request, *args, **kwargs)

    def load(self) -> tuple[Quote | None, Deal]:
        if "pk" in self.kwargs:
            quote = self.get_quote(self.kwargs["pk"], "edit")
            return quote, quote.deal
        raw = self.request.POST.get("deal") or self.request.GET.get("deal") or ""
        deal = deal_selectors.deal_get(user=self.request.user, pk=raw) if raw.isdigit() else None
        if deal is None:
            raise Http404
        return None, deal

    def refuse(self, quote: Quote | None, deal: Deal) -> HttpResponse | None:
        """A quote that can no longer be edited (or a closed deal) goes back to its page, saying why."""
        try:
            if quote is not None:
                services.check_editable(quote)
            elif deal.status != DealStatus.OPEN:
                raise ValidationError(_("The deal is closed: quotes can no longer be added."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(self.request, message)
            target = quote.get_absolute_url() if quote is not None else (deal_url(deal) or reverse("sales:quote_list"))
            return HttpResponseRedirect(target)
        return None

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        quote, deal = self.load()
        refused = self.refuse(quote, deal)
        if refused is not None:
            return refused
        form = QuoteForm(user=request.user, deal=deal, instance=quote)
        formset = line_formset(user=request.user, quote=quote)
        return self.render_form(form, formset, quote, deal)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        quote, deal = self.load()
        refused = self.refuse(quote, deal)
        if refused is not None:
            return refused
        form = QuoteForm(data=request.POST, user=request.user, deal=deal, instance=quote)
        formset = line_formset(user=request.user, data=request.POST, quote=quote)
        form_valid = form.is_valid()
        if form_valid and formset.is_valid():
            rows, line_forms = line_rows(formset)
            data = {**form.service_data(), "lines": rows}
            try:
                if quote is None:
                    saved = services.quote_create(actor=request.user, data={**data, "deal": deal})
                    messages.success(request, _("Quote %(number)s was created.") % {"number": saved.number})
                else:
                    saved = services.quote_update(
                        actor=request.user, quote=quote, data=data, version=form.cleaned_data["version"]
                    )
                    messages.success(request, _("Quote %(number)s was saved.") % {"number": saved.number})
            except ConflictError as exc:
                form.add_error(None, exc)
                return self.render_form(form, formset, quote, deal, conflict=True, status=409)
            except ValidationError as exc:
                apply_quote_errors(form, line_forms, formset, exc)
            else:
                return HttpResponseRedirect(saved.get_absolute_url())
        return self.render_form(form, formset, quote, deal, status=400)

    def render_form(
        self,
        form: QuoteForm,
        formset: Any,
        quote: Quote | None,
        deal: Deal,
        *,
        conflict: bool = False,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "form": form,
            "formset": formset,
            "object": quote,
            "deal": deal,
            "deal_url": deal_url(deal),
            "conflict": conflict,
            "totals": _totals_display(quote, quote.currency) if quote is not None else None,
        }
        return render(self.request, self.template_name, context, status=status)


class QuoteLineRowView(ModuleAccessMixin, View):
    """htmx: an empty line for the form (its index is the formset's current count), and the new count."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            index = max(0, min(int(request.GET.get(f"{LINE_PREFIX}-TOTAL_FORMS", "0")), 499))
        except ValueError:
            index = 0
        form = LineForm(prefix=f"{LINE_PREFIX}-{index}", product_choices=line_product_choices(user=request.user))
        context = {"line": form, "total_forms": index + 1, "oob_total": True}
        return render(request, "sales/quotes/partials/_line_row.html", context)


class QuoteLineProductView(ModuleAccessMixin, View):
    """htmx: a line re-drawn for the product just picked: its name, its price in the quote's price book,
    its tax rate (quantity and discount stay as typed)."""

    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        prefix = request.GET.get("prefix", "")
        if not prefix.startswith(f"{LINE_PREFIX}-") or not prefix.removeprefix(f"{LINE_PREFIX}-").isdigit():
            raise Http404
        sent = {name: request.GET.get(f"{prefix}-{name}", "") for name in LineForm.base_fields}
        product = None
        if sent["product"].isdigit():
            product = selectors.product_get(user=request.user, pk=sent["product"])
        initial = dict(sent)
        if product is not None:
            book_id = request.GET.get("price_book", "")
            book = selectors.price_book_get(user=request.user, pk=book_id) if book_id.isdigit() else None
            price = selectors.price_of(price_book=book, product=product)
            initial.update(
                description=product.name,
                unit_price=price if price is not None else "",
                tax_rate=plain(product.tax_rate),
            )
        keep = {product.pk} if product is not None else set()
        form = LineForm(
            prefix=prefix, initial=initial, product_choices=line_product_choices(user=request.user, keep=keep)
        )
        response = render(request, "sales/quotes/partials/_line_row.html", {"line": form})
        response["HX-Trigger"] = "quote-lines-changed"  # the totals follow the new price
        return response


class QuotePreviewView(ModuleAccessMixin, View):
    """htmx: the totals of the form as it stands (nothing is saved)."""

    module = MODULE

    def post(self, request: HttpRequest) -> HttpResponse:
        quote = None
        raw_quote = request.POST.get("quote", "")
        if raw_quote.isdigit():
            quote = selectors.quote_get(user=request.user, pk=raw_quote)
        raw_deal = request.POST.get("deal", "")
        deal = quote.deal if quote is not None else None
        if deal is None and raw_deal.isdigit():
            deal = deal_selectors.deal_get(user=request.user, pk=raw_deal)
        if deal is None:
            raise Http404
        formset = line_formset(user=request.user, data=request.POST, quote=quote)
        formset.is_valid()
        rows, _forms = line_rows(formset)
        data: dict[str, Any] = {"lines": rows}
        currency = request.POST.get("currency", "")
        book = request.POST.get("price_book", "")
        if currency:
            data["currency"] = currency
        data["price_book"] = book or None
        totals, incomplete = services.quote_price_preview(actor=request.user, deal=deal, data=data, quote=quote)
        incomplete = incomplete or any(form.errors for form in formset.forms)
        shown_currency = currency if currency and not incomplete else (quote.currency if quote else deal.currency)
        context = {
            "totals": _totals_display(totals, shown_currency),
            "incomplete": incomplete,
            "has_discount": totals.discount_total != pricing.ZERO,
        }
        return render(request, "sales/quotes/partials/_totals.html", context)


# --- actions ------------------------------------------------------------------------------------------------


class QuoteSendView(_QuoteMixin, View):
    """Email the quote to its contact: subject and message filled in, the PDF attached."""

    permission_action = "edit"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = self.get_quote(pk, "edit")
        if quote.status not in services.OPEN_STATUSES or quote.deal.status != DealStatus.OPEN:
            messages.error(request, _("This quote can no longer be sent."))
            return HttpResponseRedirect(quote.get_absolute_url())
        initial = {
            "subject": mail.default_subject(quote),
            "message": mail.default_message(quote, request.user),
            "version": quote.version,
        }
        return self.render_form(quote, SendForm(initial=initial))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = self.get_quote(pk, "edit")
        form = SendForm(data=request.POST)
        if form.is_valid():
            try:
                services.quote_send(
                    actor=request.user,
                    quote=quote,
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                    version=form.cleaned_data["version"],
                )
            except ConflictError as exc:
                form.add_error(None, exc)
                return self.render_form(quote, form, status=409)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Quote %(number)s was sent to %(email)s.")
                    % {"number": quote.number, "email": quote.contact.email},  # type: ignore[union-attr]
                )
                return HttpResponseRedirect(quote.get_absolute_url())
        return self.render_form(quote, form, status=400)

    def render_form(self, quote: Quote, form: SendForm, *, status: int = 200) -> HttpResponse:
        context = {"object": quote, "quote": quote, "form": form, "attachment": mail.attachment_name(quote)}
        return render(self.request, "sales/quotes/quote_send.html", context, status=status)


class _QuoteActionView(ObjectActionView):
    module = MODULE
    model = Quote

    def get_queryset(self) -> QuerySet[Quote]:
        return selectors.quote_list(user=self.request.user, action=self.permission_action)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except ConflictError as exc:
            messages.error(request, str(exc.messages[0]))
            return HttpResponseRedirect(self.get_object().get_absolute_url())

    def version(self) -> int | None:
        raw = self.request.POST.get("version", "")
        return int(raw) if raw.isdigit() else None

    def get_success_url(self, obj: Any) -> str:
        return str(obj.get_absolute_url())


class QuoteAcceptView(_QuoteActionView):
    success_message = gettext_lazy("The quote was accepted and its deal marked won.")

    def act(self, obj: Quote) -> None:
        services.quote_accept(actor=self.request.user, quote=obj, version=self.version())


class QuoteDeclineView(_QuoteActionView):
    success_message = gettext_lazy("The quote was marked declined.")

    def act(self, obj: Quote) -> None:
        services.quote_decline(actor=self.request.user, quote=obj, version=self.version())


class QuoteDuplicateView(_QuoteActionView):
    permission_action = "create"

    def get_queryset(self) -> QuerySet[Quote]:
        return selectors.quote_list(user=self.request.user)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        quote = self.get_object()
        try:
            copy = services.quote_duplicate(actor=request.user, quote=quote)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(quote.get_absolute_url())
        messages.success(
            request,
            _("Quote %(number)s is a new draft copied from %(old)s.") % {"number": copy.number, "old": quote.number},
        )
        return HttpResponseRedirect(reverse("sales:quote_edit", args=[copy.pk]))


class QuoteDeleteView(_QuoteActionView):
    """GET asks "really delete?"; POST deletes through the service."""

    permission_action = "delete"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        quote = self.get_object()
        return render(request, "customers/confirm_delete.html", {"object": quote, "opts": quote._meta})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        quote = self.get_object()
        try:
            services.quote_delete(actor=request.user, quote=quote)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(quote.get_absolute_url())
        messages.success(request, _("Quote %(number)s was deleted.") % {"number": quote.number})
        return HttpResponseRedirect(deal_url(quote.deal) or reverse("sales:quote_list"))
