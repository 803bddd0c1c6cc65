"""Security headers and the limit on failed API sign-ins.

``SecurityHeadersMiddleware`` sends the Content-Security-Policy of ``CONTENT_SECURITY_POLICY``
(django-csp), with the relaxed additions of ``CRM_CSP_PATH_UPDATES`` on the few pages that need them
(Swagger UI starts itself with an inline script), and the ``Permissions-Policy`` header.
Cross-Origin-Opener-Policy, X-Content-Type-Options, Referrer-Policy and HSTS come from Django's
``SecurityMiddleware``; X-Frame-Options from ``XFrameOptionsMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django_ratelimit.core import is_ratelimited


class SecurityHeadersMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.update is None:
            for prefix, update in getattr(settings, "CRM_CSP_PATH_UPDATES", {}).items():
                if request.path_info.startswith(prefix):
                    parts.update = update
                    break
        return parts

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().process_response(request, response)
        policy = getattr(settings, "CRM_PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


API_AUTH_GROUP = "crm-api-auth-failures"


class ApiAuthFailureLimitMiddleware:
    """Answers 429 to an address that sent too many API requests with a token that was refused
    (``API_AUTH_FAILURE_RATE``): the per-token throttle cannot count those, as they have no token."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        rate = getattr(settings, "API_AUTH_FAILURE_RATE", "")
        if rate and is_ratelimited(request, group=API_AUTH_GROUP, key="ip", rate=rate, increment=False):
            from crm.core.views.errors import rate_limited

            return rate_limited(request)
        response = self.get_response(request)
        if rate and response.status_code == 401 and request.META.get("HTTP_AUTHORIZATION"):
            is_ratelimited(request, group=API_AUTH_GROUP, key="ip", rate=rate, increment=True)
        return response
