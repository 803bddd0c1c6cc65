"""What a signed-in person manages for themselves: preferences, two-factor, API tokens."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.core.views.generic import apply_validation_error

from .. import selectors, services
from ..forms import PreferencesForm, TokenForm, TwoFactorCodeForm

SETUP_KEY = "_crm_2fa_setup_device"


class ProfileView(LoginRequiredMixin, View):
    template_name = "accounts/profile.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(
            initial={
                "language": request.user.language or translation.get_language(),
                "time_zone": request.user.time_zone,
            }
        )
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.user_update_preferences(user=request.user, **form.cleaned_data)
            translation.activate(form.cleaned_data["language"])
            messages.success(request, _("Your preferences were saved."))
            response = redirect("accounts:profile")
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"], samesite="Lax")
            return response
        return render(request, self.template_name, {"form": form}, status=400)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch in the user menu (and on the sign-in page)."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    if language not in dict(settings.LANGUAGES):
        return HttpResponseRedirect(target)
    if request.user.is_authenticated:
        services.user_update_preferences(user=request.user, language=language)
    translation.activate(language)
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", httponly=True, secure=request.is_secure()
    )
    return response


class TwoFactorView(LoginRequiredMixin, View):
    """Enrol (QR code, then a code to confirm), see recovery codes once, or turn two-factor off."""

    template_name = "accounts/two_factor.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context: dict[str, object] = {
            "required": request.user.requires_two_factor,
            "enabled": request.user.has_two_factor,
        }
        if not request.user.has_two_factor:
            context.update(self._setup_context(request))
        context["recovery_left"] = request.user.recovery_codes.filter(used_at__isnull=True).count()
        return render(request, self.template_name, context)

    def _setup_context(self, request: HttpRequest, device: TOTPDevice | None = None) -> dict[str, object]:
        if device is None:
            device = services.two_factor_begin(user=request.user)
            request.session[SETUP_KEY] = device.pk
        label = f"{settings.OTP_TOTP_ISSUER}:{request.user.email or request.user.username}"
        uri = device.config_url.replace(device.config_url.split("?")[0], "otpauth://totp/" + _quote(label), 1)
        qr = segno.make(uri, error="m")
        return {
            "device": device,
            "form": TwoFactorCodeForm(),
            "qr_svg": qr.svg_data_uri(scale=5, dark="#1d273b"),
            "secret": _base32(device),
        }

    def post(self, request: HttpRequest) -> HttpResponse:
        device = TOTPDevice.objects.filter(
            pk=request.session.get(SETUP_KEY), user=request.user, confirmed=False
        ).first()
        if device is None:
            messages.error(request, _("The set-up expired. Scan the new code."))
            return redirect("accounts:two_factor")
        form = TwoFactorCodeForm(request.POST)
        if form.is_valid():
            try:
                codes = services.two_factor_confirm(user=request.user, device=device, code=form.cleaned_data["code"])
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                request.session.pop(SETUP_KEY, None)
                messages.success(request, _("Two-factor authentication is on."))
                return render(request, "accounts/recovery_codes.html", {"codes": codes})
        context = {
            "required": request.user.requires_two_factor,
            "enabled": False,
            **self._setup_context(request, device),
        }
        context["form"] = form
        return render(request, self.template_name, context, status=400)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe=":@")


def _base32(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class RecoveryCodesView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_two_factor:
            return redirect("accounts:two_factor")
        codes = services.recovery_codes_regenerate(user=request.user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes})


class TwoFactorDisableView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        services.two_factor_disable(actor=request.user, user=request.user)
        messages.success(request, _("Two-factor authentication is off."))
        return redirect("accounts:two_factor")


class TokenListView(LoginRequiredMixin, View):
    template_name = "accounts/token_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, self.template_name, {"tokens": selectors.token_list(user=request.user), "form": TokenForm()}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TokenForm(request.POST)
        secret = None
        if form.is_valid():
            try:
                _token, secret = services.token_create(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                form = TokenForm()
        status = 200 if secret or form.is_bound is False else 400
        return render(
            request,
            self.template_name,
            {"tokens": selectors.token_list(user=request.user), "form": form, "secret": secret},
            status=status,
        )


class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(selectors.token_list(user=request.user), pk=pk)
        services.token_revoke(user=request.user, token=token)
        messages.success(request, _("The token was revoked. Programs using it can no longer connect."))
        return redirect("accounts:token_list")
