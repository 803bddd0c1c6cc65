"""Spam protection of the public form without third-party services: a honeypot input, a minimum
time to fill the form in, a rate limit per client address and bounded requests.

Settings (each optional): ``WEB_FORM_RATE`` (posts per address, default ``"20/h"``; the address is
taken behind reverse proxies as the sign-in lock-out takes it, see ``PROXY_COUNT``),
``WEB_FORM_MIN_FILL_SECONDS`` (default 3; 0 turns the check off) and ``WEB_FORM_MAX_BODY_BYTES``
(default 64 KiB).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django_ratelimit.core import is_ratelimited

from ..models import LeadForm
from .fields import ELAPSED, HONEYPOT, STARTED

RATE_GROUP = "sales.webforms.submit"
_STAMP_SALT = "crm.sales.webforms.started"


def submit_rate() -> str:
    return str(getattr(settings, "WEB_FORM_RATE", "20/h"))


def min_fill_seconds() -> float:
    return float(getattr(settings, "WEB_FORM_MIN_FILL_SECONDS", 3))


def max_body_bytes() -> int:
    return int(getattr(settings, "WEB_FORM_MAX_BODY_BYTES", 64 * 1024))


def client_address(group: str, request: Any) -> str:
    """The visitor's address: the connection's, or behind ``PROXY_COUNT`` reverse proxies the one the
    outermost proxy saw. IPv6 addresses count per /64 network (one subscriber's usual share)."""
    address = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies = int(getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0)
    if proxies > 0:
        chain = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        if len(chain) >= proxies:
            address = chain[-proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def rate_limited(request: Any) -> bool:
    """Count this post against its address; ``True`` once the address is over the limit."""
    return bool(
        is_ratelimited(request, group=RATE_GROUP, key=client_address, rate=submit_rate(), method="POST", increment=True)
    )


def body_too_large(request: Any) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > max_body_bytes()


def honeypot_filled(data: Mapping[str, Any]) -> bool:
    return bool(str(data.get(HONEYPOT, "") or "").strip())


def started_stamp(form: LeadForm, *, at: float | None = None) -> str:
    """A signed "opened at" for the hosted page (``at``: seconds since the epoch, default now)."""
    moment = time.time() if at is None else at
    return signing.dumps({"f": form.token, "t": int(moment * 1000)}, salt=_STAMP_SALT)


def fill_seconds(form: LeadForm, data: Mapping[str, Any]) -> float | None:
    """How long the visitor took from opening the form to sending it; ``None`` when it cannot be told
    (no script ran, or the stamp was forged or belongs to another form)."""
    now_ms = time.time() * 1000
    started = str(data.get(STARTED, "") or "").strip()
    elapsed = str(data.get(ELAPSED, "") or "").strip()
    if started and not started.isdigit():
        try:
            stamp = signing.loads(started, salt=_STAMP_SALT)
        except signing.BadSignature:
            return None
        if not isinstance(stamp, dict) or stamp.get("f") != form.token or not isinstance(stamp.get("t"), int):
            return None
        return max(0.0, (now_ms - stamp["t"]) / 1000)
    if elapsed.isdigit() and len(elapsed) <= 12:
        return int(elapsed) / 1000
    if started.isdigit() and len(started) <= 15:
        # Only the moment the page was opened, by the visitor's clock (which may be off).
        seconds = (now_ms - int(started)) / 1000
        return seconds if seconds >= 0 else None
    return None


def too_fast(form: LeadForm, data: Mapping[str, Any]) -> bool:
    """Sent sooner after opening than a person can fill a form in (or with no way to tell)."""
    minimum = min_fill_seconds()
    if minimum <= 0:
        return False
    seconds = fill_seconds(form, data)
    return seconds is None or seconds < minimum
