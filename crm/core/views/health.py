"""``/healthz``: is the database reachable, is the task broker reachable? Answers within seconds."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

CHECK_TIMEOUT = 3.0


def _database() -> str:
    from django.db import connections

    try:
        conn = connections["default"]
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    finally:
        connections.close_all()


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        if not folder.is_dir():
            raise RuntimeError("queue folder missing")
        return "ok"
    from kombu import Connection

    with Connection(url, connect_timeout=CHECK_TIMEOUT, transport_options={"socket_timeout": CHECK_TIMEOUT}) as conn:
        conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT)
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database, "broker": _broker}
    # A pool per request: a check that hangs past its timeout cannot starve the next probe.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="healthz")
    futures = {name: pool.submit(check) for name, check in checks.items()}
    pool.shutdown(wait=False)
    status: dict[str, str] = {}
    for name, future in futures.items():
        try:
            status[name] = future.result(timeout=CHECK_TIMEOUT + 1)
        except concurrent.futures.TimeoutError:
            status[name] = "timeout"
        except Exception as exc:  # the point is to report, not to crash
            status[name] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in status.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **status}, status=200 if healthy else 503)
