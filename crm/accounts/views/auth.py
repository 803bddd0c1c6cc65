"""Signing in and out, two-factor at login, passwords."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, signals, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from .. import services
from ..backends import user_for_login
from ..forms import LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm, TwoFactorCodeForm
from ..models import User

PENDING_KEY = "_crm_2fa_pending"
PENDING_SECONDS = 300
INVALID_LOGIN = "Invalid username or password."


def _login_rate(group: str, request: HttpRequest) -> str:
    return settings.LOGIN_RATE_PER_ADDRESS


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _lockout_name(login: str) -> str:
    """The name failures are counted under: an account's own username however it was typed (username
    or email, any letter case), so that no spelling buys extra guesses and a success resets them all."""
    account = user_for_login(login)
    return account.get_username() if account is not None else login.strip().lower()


def lockout_response(
    request: HttpRequest, response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """Shown while an account is cooling off after too many failed attempts."""
    minutes = max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))
    form = LoginForm(initial={"username": (credentials or {}).get("username", "")})
    form.cleaned_data = {}  # an unbound form has none, and add_error() needs it
    form.add_error(
        None,
        _("Too many failed attempts. For your security, signing in to this account is paused for %(minutes)d minutes.")
        % {"minutes": minutes},
    )
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)}, status=429)


@method_decorator([sensitive_post_parameters("password"), csrf_protect, never_cache], name="dispatch")
@method_decorator(ratelimit(key="ip", rate=_login_rate, method="POST", block=True), name="post")
class LoginView(View):
    template_name = "accounts/login.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return HttpResponseRedirect(_safe_next(request))
        return render(request, self.template_name, {"form": LoginForm(), "next": _safe_next(request)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = LoginForm(request.POST)
        if form.is_valid():
            login_name = _lockout_name(form.cleaned_data["username"])
            user = authenticate(request, username=login_name, password=form.cleaned_data["password"])
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request, None, {"username": form.cleaned_data["username"]})
            if user is not None:
                if user.has_two_factor:
                    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time(), "backend": user.backend}
                    next_url = _safe_next(request)
                    return HttpResponseRedirect(reverse("accounts:login_verify") + "?" + urlencode({"next": next_url}))
                login(request, user)
                return HttpResponseRedirect(_safe_next(request))
            form.add_error(None, _(INVALID_LOGIN))
        return render(request, self.template_name, {"form": form, "next": _safe_next(request)}, status=400)


@method_decorator([csrf_protect, never_cache], name="dispatch")
@method_decorator(ratelimit(key="ip", rate=_login_rate, method="POST", block=True), name="post")
class LoginVerifyView(View):
    """The second step for users with two-factor: a TOTP code or a recovery code."""

    template_name = "accounts/login_verify.html"

    def pending_user(self, request: HttpRequest) -> User | None:
        pending = request.session.get(PENDING_KEY)
        if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
            return None
        return User.objects.filter(pk=pending["user"], is_active=True).first()

    def get(self, request: HttpRequest) -> HttpResponse:
        if self.pending_user(request) is None:
            messages.info(request, _("Please sign in again."))
            return redirect("accounts:login")
        return render(request, self.template_name, {"form": TwoFactorCodeForm(), "next": _safe_next(request)})

    def post(self, request: HttpRequest) -> HttpResponse:
        user = self.pending_user(request)
        if user is None:
            messages.info(request, _("Please sign in again."))
            return redirect("accounts:login")
        form = TwoFactorCodeForm(request.POST)
        if form.is_valid():
            from axes.handlers.proxy import AxesProxyHandler

            credentials = {"username": user.username}
            if AxesProxyHandler.is_locked(request, credentials):
                return lockout_response(request, None, credentials)
            if services.two_factor_verify(user=user, code=form.cleaned_data["code"]):
                backend = request.session[PENDING_KEY]["backend"]
                del request.session[PENDING_KEY]
                login(request, user, backend=backend)
                return HttpResponseRedirect(_safe_next(request))
            # A wrong code counts towards the same lock-out as a wrong password.
            signals.user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False) or AxesProxyHandler.is_locked(request, credentials):
                request.session.pop(PENDING_KEY, None)
                return lockout_response(request, None, credentials)
            form.add_error("code", _("That code is not right, or it was already used."))
        return render(request, self.template_name, {"form": form, "next": _safe_next(request)}, status=400)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@method_decorator([login_required, sensitive_post_parameters(), csrf_protect], name="dispatch")
class PasswordChangeView(View):
    template_name = "accounts/password_change.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": PasswordChangeForm(request.user)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PasswordChangeForm(request.user, request.POST)
        if form.is_valid():
            user = services.user_change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("accounts:profile")
        return render(request, self.template_name, {"form": form}, status=400)


@method_decorator(ratelimit(key="ip", rate=_login_rate, method="POST", block=True), name="post")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
