"""``/healthz`` tells a load balancer, within seconds, whether the database and the task broker
answer; it needs no login and is never cached."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client, override_settings

from crm.core.views import health

pytestmark = pytest.mark.django_db

HEALTHZ = "/healthz"
# Nothing listens on port 1.
DEAD_BROKER = "redis://127.0.0.1:1/0"
DEADLINE = 8.0


def get_healthz(client: Client) -> tuple[Any, dict[str, str], float]:
    started = time.monotonic()
    response = client.get(HEALTHZ)
    elapsed = time.monotonic() - started
    assert response["Content-Type"] == "application/json"
    return response, response.json(), elapsed


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A broker address that accepts connections and then never says a word."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()


@pytest.fixture
def database_down() -> Iterator[None]:
    """Every database cursor opened by the health check's threads fails as if the server were gone;
    the test itself keeps its database."""
    wrapper = type(connections["default"])
    real_cursor = wrapper._cursor

    def failing_cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith("healthz"):
            raise OperationalError("connection to server at 127.0.0.1, port 1 failed: Connection refused")
        return real_cursor(self, *args, **kwargs)

    with mock.patch.object(wrapper, "_cursor", failing_cursor):
        yield


def test_healthy(client: Client) -> None:
    response, body, elapsed = get_healthz(client)
    assert response.status_code == 200
    assert body == {"status": "ok", "database": "ok", "broker": "ok"}
    assert elapsed < DEADLINE


def test_needs_no_login_and_is_never_cached(client: Client) -> None:
    response = client.get(HEALTHZ)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


@override_settings(CELERY_BROKER_URL=DEAD_BROKER)
def test_unreachable_broker(client: Client) -> None:
    response, body, elapsed = get_healthz(client)
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")
    assert elapsed < DEADLINE


def test_broker_that_never_answers(client: Client, silent_broker: str) -> None:
    with override_settings(CELERY_BROKER_URL=silent_broker):
        response, body, elapsed = get_healthz(client)
    assert response.status_code == 503
    assert body["database"] == "ok"
    assert body["broker"] != "ok" and (body["broker"] == "timeout" or body["broker"].startswith("error"))
    assert elapsed < DEADLINE


def test_missing_queue_folder_of_the_embedded_broker(client: Client, tmp_path: Any) -> None:
    options = {"data_folder_in": str(tmp_path / "gone"), "data_folder_out": str(tmp_path / "gone")}
    with override_settings(CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options):
        response, body, _elapsed = get_healthz(client)
    assert response.status_code == 503
    assert body["broker"].startswith("error") and body["database"] == "ok"


def test_unreachable_database(client: Client, database_down: None) -> None:
    response, body, elapsed = get_healthz(client)
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "error: OperationalError"
    assert body["broker"] == "ok"
    assert elapsed < DEADLINE


def test_database_check_that_raises(client: Client) -> None:
    def refused() -> str:
        raise OperationalError("could not connect to server")

    with mock.patch.object(health, "_database", refused):
        response, body, _elapsed = get_healthz(client)
    assert response.status_code == 503
    assert body["database"].startswith("error") and body["broker"] == "ok"


def test_database_that_hangs(client: Client) -> None:
    release = threading.Event()

    def hanging() -> str:
        release.wait(30)
        return "ok"

    try:
        with mock.patch.object(health, "_database", hanging):
            response, body, elapsed = get_healthz(client)
    finally:
        release.set()
    assert response.status_code == 503
    assert body["database"] == "timeout" and body["broker"] == "ok"
    assert elapsed < DEADLINE


@override_settings(CELERY_BROKER_URL=DEAD_BROKER)
def test_both_down(client: Client, database_down: None) -> None:
    response, body, elapsed = get_healthz(client)
    assert response.status_code == 503
    assert body["database"].startswith("error") and body["broker"].startswith("error")
    assert elapsed < DEADLINE


def test_recovers_when_the_broker_is_back(client: Client) -> None:
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        assert client.get(HEALTHZ).status_code == 503
    assert client.get(HEALTHZ).status_code == 200
