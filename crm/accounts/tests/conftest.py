"""Fixtures of the accounts tests: a real SMTP server, authenticator-app codes, signing in."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape

import pytest
from aiosmtpd.controller import Controller
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN_URL = "/accounts/login/"
LINK = re.compile(r"https?://\S+")


class Inbox:
    """An aiosmtpd handler that keeps every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def body(self, index: int = -1) -> str:
        return self.messages[index].get_body(preferencelist=("plain",)).get_content()

    def link(self, index: int = -1) -> str:
        """The first link in a message, as a path the test client can follow."""
        url = LINK.search(self.body(index)).group(0)
        return re.sub(r"^https?://[^/]+", "", url)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1, and the CRM configured to send its email there."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield inbox
    finally:
        controller.stop()


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app holding the device's key shows now (one it has not used yet)."""
    device.refresh_from_db()
    now_t = (int(time.time()) - device.t0) // device.step + device.drift
    counter = max(now_t, device.last_t + 1)
    return f"{hotp(device.bin_key, counter, digits=device.digits):0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = int(totp_code(device))
    return f"{(right + 500_000) % 1_000_000:06d}"


def sign_in(client, login: str, password: str, **extra):
    return client.post(LOGIN_URL, {"username": login, "password": password}, **extra)


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def error_text(response) -> str:
    """The visible text of the form's errors on a rendered page."""
    html = unescape(response.content.decode())
    found = re.findall(r'class="(?:alert alert-danger|invalid-feedback d-block)"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(" ".join(re.sub(r"<[^>]+>", " ", chunk).split()) for chunk in found)
