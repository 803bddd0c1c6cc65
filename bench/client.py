"""The load runner's HTTP client: keep-alive connections to 127.0.0.1 only, every answer checked.

A request counts as a success only when it answers 200; anything else (another status, a reset
connection, a time-out) is an error, counted and reported. Latency is measured from sending the
request to having read the whole body, for successful requests.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

HOST = "127.0.0.1"
TIMEOUT = 30.0


@dataclass
class Measurement:
    """What many requests to one page gave."""

    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    stopped_early: bool = False  # the time limit ran out before all requests were made

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile(self, p: int) -> float | None:
        """The ``p``-th percentile of the successful requests' latencies; ``None`` without any."""
        if not self.latencies_ms:
            return None
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _read_cookies(response: http.client.HTTPResponse, cookies: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        cookies.update({name: morsel.value for name, morsel in jar.items()})


def login(port: int, *, username: str, password: str) -> dict[str, str]:
    """Sign in through the login page as a browser does; returns the session's cookies."""
    cookies: dict[str, str] = {}
    conn = connect(port)
    try:
        conn.request("GET", "/accounts/login/")
        response = conn.getresponse()
        response.read()
        _read_cookies(response, cookies)
        if response.status != 200 or "csrftoken" not in cookies:
            raise RuntimeError(f"The login page answered {response.status} without a CSRF cookie.")
        form = {"csrfmiddlewaretoken": cookies["csrftoken"], "username": username, "password": password, "next": "/"}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(cookies)}
        conn.request("POST", "/accounts/login/", body=urlencode(form), headers=headers)
        response = conn.getresponse()
        response.read()
        _read_cookies(response, cookies)
    finally:
        conn.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"Signing in as {username} failed: the login answered {response.status}.")
    return cookies


def measure(
    port: int,
    path: str,
    *,
    headers: dict[str, str],
    requests: int,
    concurrency: int,
    time_limit: float,
) -> Measurement:
    """GET ``path`` ``requests`` times from ``concurrency`` threads, each on its own keep-alive connection."""
    result = Measurement()
    lock = threading.Lock()
    remaining = requests
    deadline = time.monotonic() + time_limit

    def take() -> bool:
        nonlocal remaining
        with lock:
            if remaining <= 0:
                return False
            if time.monotonic() > deadline:
                result.stopped_early = True
                return False
            remaining -= 1
            return True

    def work() -> None:
        conn = connect(port)
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        try:
            while take():
                started = time.perf_counter()
                outcome = _get(conn, path, headers)
                elapsed_ms = (time.perf_counter() - started) * 1000
                if outcome is None:
                    latencies.append(elapsed_ms)
                else:
                    errors[outcome] += 1
        finally:
            conn.close()
            with lock:
                result.latencies_ms.extend(latencies)
                result.errors.update(errors)

    threads = [threading.Thread(target=work, name=f"bench-client-{n}", daemon=True) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies_ms) + result.error_count
    return result


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> str | None:
    """One GET on ``conn``; ``None`` when it answered 200, otherwise what went wrong."""
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # the next request opens a fresh connection
        return type(exc).__name__
    if response.status == 200:
        return None
    location = response.getheader("Location")
    return f"HTTP {response.status}" + (f" -> {location}" if location else "")
