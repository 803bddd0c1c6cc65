"""Settings → Web forms (the administrator's pages) and the public pages visitors see: the hosted
form, the endpoint that every copy of the form posts to, and the consent confirmation link."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin, ObjectFormView, apply_validation_error, record_history_page

from ..models import LeadForm
from . import protection, selectors, services, snippet
from .fields import BY_NAME, CONSENT, ELAPSED, HONEYPOT, LANGUAGE, STARTED, label_of
from .forms import LeadFormForm, SubmissionForm, shows_consent

MODULE = services.ADMIN_MODULE


def _get(pk: Any) -> LeadForm:
    form = selectors.lead_form_get(pk=pk)
    if form is None:
        raise Http404
    return form


# --- the administrator's pages ----------------------------------------------------------------------------


class LeadFormListView(ModuleAccessMixin, View):
    module = MODULE

    def get(self, request: HttpRequest) -> HttpResponse:
        page = paginate(request, selectors.lead_form_list(), per_page=25)
        rows = [(form, [label_of(name) for name in form.fields or []]) for form in page.object_list]
        context = {
            "page": page,
            "rows": rows,
            "can_create": services.can_manage(request.user, "create"),
            "can_edit": services.can_manage(request.user, "edit"),
            "can_delete": services.can_manage(request.user, "delete"),
        }
        return render(request, "sales/webforms/form_list.html", context)


class LeadFormDetailView(ModuleAccessMixin, View):
    """The form's page: the snippet to copy (in a chosen language), the hosted page's address, its
    newest leads and its history."""

    module = MODULE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = _get(pk)
        language = snippet.language_of(request.GET.get("snippet_lang"))
        required = set(form.required_fields or [])
        context = {
            "object": form,
            "asked": [(BY_NAME[name], name in required) for name in form.fields or [] if name in BY_NAME],
            "snippet": snippet.embed_snippet(form, request=request, language=language),
            "snippet_language": language,
            "page_url": snippet.page_url(form, request),
            "submit_url": snippet.submit_url(form, request),
            "shows_consent": shows_consent(form),
            "leads": selectors.form_leads(user=request.user, form=form),
            "history": record_history_page(request.user, form),
            "can_edit": services.can_manage(request.user, "edit"),
            "can_delete": services.can_manage(request.user, "delete"),
        }
        return render(request, "sales/webforms/form_detail.html", context)


class LeadFormFormView(ObjectFormView):
    """Add or edit a web form."""

    module = MODULE
    model = LeadForm
    form_class = LeadFormForm
    template_name = "sales/webforms/form_form.html"

    def get_queryset(self) -> QuerySet[LeadForm]:
        return selectors.lead_form_list()

    def render_form(self, form: Any, instance: Any, *, conflict: bool = False, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": instance,
            "conflict": conflict,
            "can_delete": services.can_manage(self.request.user, "delete"),
        }
        return render(self.request, str(self.template_name), context, status=status)

    def save(self, form: Any, instance: Any) -> LeadForm:
        data = form.service_data()
        if instance is None:
            saved = services.lead_form_create(actor=self.request.user, data=data)
            messages.success(
                self.request,
                _("The web form “%(name)s” was added. Copy its snippet onto your website.") % {"name": saved.name},
            )
            return saved
        saved = services.lead_form_update(
            actor=self.request.user, form=instance, data=data, version=form.cleaned_data["version"]
        )
        messages.success(self.request, _("The web form “%(name)s” was saved.") % {"name": saved.name})
        return saved

    def get_success_url(self, obj: Any) -> str:
        return reverse("sales:lead_form_detail", args=[obj.pk])


class _LeadFormActionView(ModuleAccessMixin, View):
    module = MODULE
    permission_action = "edit"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = _get(pk)
        try:
            target = self.act(form)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            target = reverse("sales:lead_form_detail", args=[form.pk])
        return HttpResponseRedirect(target)

    def act(self, form: LeadForm) -> str:
        raise NotImplementedError


class LeadFormSetActiveView(_LeadFormActionView):
    def act(self, form: LeadForm) -> str:
        active = self.request.POST.get("active") == "1"
        services.lead_form_set_active(actor=self.request.user, form=form, active=active)
        if active:
            messages.success(self.request, _("“%(name)s” takes submissions again.") % {"name": form.name})
        else:
            messages.success(
                self.request,
                _("“%(name)s” is deactivated: its page and every embedded copy stop taking submissions.")
                % {"name": form.name},
            )
        back = self.request.POST.get("next", "")
        return back if back == reverse("sales:lead_form_list") else reverse("sales:lead_form_detail", args=[form.pk])


class LeadFormDeleteView(_LeadFormActionView):
    """GET asks "really delete?"; POST deletes through the service."""

    permission_action = "delete"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = _get(pk)
        context = {
            "object": form,
            "lead_count": form.leads.count(),
            "can_edit": services.can_manage(request.user, "edit"),
        }
        return render(request, "sales/webforms/form_delete.html", context)

    def act(self, form: LeadForm) -> str:
        services.lead_form_delete(actor=self.request.user, form=form)
        messages.success(self.request, _("The web form “%(name)s” was deleted.") % {"name": form.name})
        return reverse("sales:lead_form_list")


# --- what visitors see ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _visitor_language(code: Any) -> Iterator[None]:
    """The language the form was shown in (a ``lang`` the page or snippet names), else the one the
    browser asks for."""
    if isinstance(code, str) and code:
        with translation.override(snippet.language_of(code)):
            yield
    else:
        yield


def _message(request: HttpRequest, status: int, title: str, text: str, *, form: LeadForm | None = None) -> HttpResponse:
    context = {"title": title, "text": text, "lead_form": form, "back_url": _back_url(request)}
    return render(request, "sales/webforms/public_message.html", context, status=status)


def _back_url(request: HttpRequest) -> str:
    """The page of another website the visitor came from (one embedding the form)."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        parts = urlsplit(referer)
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(referer) > 2000:
        return ""
    if parts.netloc == request.get_host():
        return ""  # the hosted page itself: nowhere else to go back to
    return referer


def _not_found(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        404,
        _("This form is not available"),
        _("The form may have been taken down. Please contact the company directly."),
    )


def _render_form(
    request: HttpRequest, form: LeadForm, submission: SubmissionForm, *, notice: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "lead_form": form,
        "submission": submission,
        "notice": notice,
        "action": reverse("sales:web_form_submit", args=[form.token]),
        "stamp": protection.started_stamp(form),
        "language": translation.get_language(),
        "names": {"honeypot": HONEYPOT, "started": STARTED, "elapsed": ELAPSED, "language": LANGUAGE},
    }
    return render(request, "sales/webforms/public_form.html", context, status=status)


def _thank_you(request: HttpRequest, form: LeadForm, *, consent_requested: bool) -> HttpResponse:
    context = {
        "lead_form": form,
        "consent_requested": consent_requested,
        "back_url": _back_url(request),
    }
    return render(request, "sales/webforms/public_thanks.html", context)


@method_decorator(never_cache, name="dispatch")
class WebFormPageView(View):
    """The hosted page of a form (no sign-in, no CRM around it), in the visitor's language."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        with _visitor_language(request.GET.get("lang")):
            form = selectors.lead_form_public_get(token=token)
            if form is None:
                return _not_found(request)
            return _render_form(request, form, SubmissionForm(lead_form=form))


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class WebFormSubmitView(View):
    """Where every copy of a form posts (from any website, without a session)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return HttpResponseRedirect(reverse("sales:web_form_page", args=[token]))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        with _visitor_language(request.POST.get(LANGUAGE)):
            if protection.rate_limited(request):
                return _message(
                    request,
                    429,
                    _("Too many submissions"),
                    _("We received too many forms from your address. Please wait a while and try again."),
                )
            if protection.body_too_large(request):
                return _message(
                    request,
                    413,
                    _("Too much text"),
                    _("What you sent is too large for this form. Please shorten your message and try again."),
                )
            form = selectors.lead_form_public_get(token=token)
            if form is None:
                return _not_found(request)
            if protection.honeypot_filled(request.POST):
                # Look like a success, so that the sender learns nothing; nothing is saved.
                return _thank_you(
                    request, form, consent_requested=bool(request.POST.get(CONSENT)) and form.double_opt_in
                )
            submission = SubmissionForm(request.POST, lead_form=form)
            if protection.too_fast(form, request.POST):
                notice = _("Please check your details and send the form again.")
                return _render_form(request, form, submission, notice=notice, status=400)
            if submission.is_valid():
                try:
                    services.web_form_submit(
                        form=form, data=submission.lead_data(), consent=submission.consent, request=request
                    )
                except ValidationError as exc:
                    apply_validation_error(submission, exc)
                else:
                    consent_requested = submission.consent and form.double_opt_in
                    return _thank_you(request, form, consent_requested=consent_requested)
            return _render_form(request, form, submission, status=400)


@method_decorator(never_cache, name="dispatch")
class WebFormConsentView(View):
    """The link of the double opt-in email opens a page whose button confirms the consent (opening
    the link alone changes nothing: mail scanners open links by themselves)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        with _visitor_language(request.GET.get("lang")):
            try:
                lead = services.lead_for_consent_token(token=token)
            except ValidationError as exc:
                return _message(request, 400, _("The consent was not confirmed"), " ".join(exc.messages))
            if lead.consent_confirmed_at is not None:
                return _confirmed(request)
            return render(request, "sales/webforms/public_confirm.html", {"token": token})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        with _visitor_language(request.GET.get("lang") or request.POST.get("lang")):
            try:
                services.lead_consent_confirm(token=token)
            except ValidationError as exc:
                return _message(request, 400, _("The consent was not confirmed"), " ".join(exc.messages))
            return _confirmed(request)


def _confirmed(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        200,
        _("Thank you for confirming"),
        _("You will hear from us by email. You can withdraw your consent at any time."),
    )
