"""The load runner: the CRM configured for production on a database of its own, filled by the
generators, served by gunicorn and measured page by page.

Steps: recreate the database, ``manage.py prepare``, ``python -m bench.generate``, an API token
for the benchmark user, gunicorn on a free port of 127.0.0.1, sign in, then for every page a
warm-up and the measured requests; last, the workers' memory. gunicorn is stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crm.core.crypto import keyfile

from . import client, report
from .database import DEFAULT_URL, LOCAL_HOSTS, Database
from .generate import LOGIN_USERNAME, PASSWORD_ENV
from .pages import PAGES, Page
from .server import ROOT, WORKERS, Server

PYTHON = ROOT / ".venv" / "bin" / "python"
STEP_TIMEOUT = 30 * 60.0  # prepare, data generation
PAGE_TIME_LIMIT = 120.0  # per page and phase (warm-up, measured run)

# Run by `manage.py shell -c`: creates a read-only API token for the benchmark user, prints its secret.
API_KEY_SCRIPT = """
import os
from crm.accounts.models import User
from crm.accounts.services import token_create
user = User.objects.get(username=os.environ["BENCH_USERNAME"])
print(token_create(user=user, name="benchmark", read_only=True, expires_at=None)[1])
"""


@dataclass(frozen=True)
class Options:
    size: int = 10_000
    requests: int = 500
    warmup: int = 50
    concurrency: int = 2
    database_url: str = DEFAULT_URL
    redis_url: str = ""


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def app_env(options: Options, local_dir: Path, password: str) -> dict[str, str]:
    """The environment of a production deployment on this machine, over plain HTTP on 127.0.0.1."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "REDIS_URL", "CELERY_BROKER_URL", "CRM_FIELD_KEYS", "CRM_KEY_FILE"}
    }
    key_file = local_dir / "field-keys.json"  # the run's data is new, so are its keys
    if not key_file.exists():
        keyfile.create(key_file)
    env |= {
        "CRM_KEY_FILE": str(key_file),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CRM_ENV": "production",
        "CRM_LOCAL_DIR": str(local_dir),
        "DATABASE_URL": options.database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOGIN_RATE_PER_ADDRESS": "10000/m",  # every request comes from 127.0.0.1
        "API_RATE": "1000000/min",  # the throttle still runs, it just never refuses
        "LOG_LEVEL": "WARNING",
        PASSWORD_ENV: password,
        "BENCH_USERNAME": LOGIN_USERNAME,
    }
    if options.redis_url:
        env["REDIS_URL"] = options.redis_url
    return env


def check_local(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise ValueError(f"The benchmark only contacts this machine, not {host}.")


def run_step(args: list[str], env: dict[str, str]) -> str:
    completed = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if completed.returncode != 0:
        raise RuntimeError(f"`{' '.join(args[1:4])}` failed:\n{completed.stderr[-4000:]}")
    return completed.stdout


def prepare(database: Database, options: Options, env: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """An empty database, migrated, filled with benchmark data; returns what the generators wrote,
    and notes on anything that had to be worked around."""
    say(f"Recreating the database {database.label()}")
    database.recreate()
    say("manage.py prepare (migrate, cache table, static files)")
    notes = run_prepare(env)
    say(f"Generating data (size {options.size:,})")
    summary: dict[str, Any] = json.loads(
        run_step(
            [str(PYTHON), "-m", "bench.generate", "--size", str(options.size)], env | {"DB_STATEMENT_TIMEOUT_MS": "0"}
        ).splitlines()[-1]
    )
    for name, rows in summary["rows"].items():
        say(f"  {rows:>10,} {name} in {summary['seconds'][name]:.1f} s")
    say(f"  statistics (VACUUM ANALYZE) in {summary['seconds']['statistics']:.1f} s")
    return summary, notes


def run_prepare(env: dict[str, str]) -> list[str]:
    """``manage.py prepare`` in production settings (migrations, cache table, static files)."""
    run_step([str(PYTHON), "manage.py", "prepare"], env)
    return []


PLACES_SCRIPT = """
import json
from crm.core.pagination import _encode
from crm.customers.models import Activity, Contact
from crm.sales.models import Pipeline
deep = Contact.objects.order_by("name", "id").values_list("name", "id")[24_974:24_975].first()
busy = Activity.objects.values_list("contact_id", flat=True).order_by("-contact_id").first()
phone = Contact.objects.exclude(phone="").order_by("-id").values_list("phone", flat=True).first() or "+8613000000001"
print(json.dumps({
    "deep_contact_cursor": _encode(list(deep)) if deep else "",
    "busy_contact": busy or Contact.objects.order_by("id").values_list("id", flat=True).first() or 1,
    "phone": phone.replace("+", "%2B"),
    "board_pipeline": Pipeline.objects.filter(is_default=True).values_list("id", flat=True).first() or 1,
}))
"""


def resolve_places(env: dict[str, str]) -> dict[str, str]:
    """Values the data decides, filled into the pages' paths (a deep page's cursor, a busy contact)."""
    out = run_step([str(PYTHON), "manage.py", "shell", "--no-imports", "-c", PLACES_SCRIPT], env)
    return {key: str(value) for key, value in json.loads(out.strip().splitlines()[-1]).items()}


def create_token(env: dict[str, str]) -> str:
    out = run_step([str(PYTHON), "manage.py", "shell", "--no-imports", "-c", API_KEY_SCRIPT], env)
    return out.strip().splitlines()[-1]


def page_headers(page: Page, cookies: dict[str, str], token: str) -> dict[str, str]:
    if page.auth == "session":
        return {"Cookie": client.cookie_header(cookies)}
    if page.auth == "token":
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return {}


def measure_pages(server: Server, options: Options, env: dict[str, str], token: str) -> list[dict[str, Any]]:
    cookies = client.login(server.port, username=LOGIN_USERNAME, password=env[PASSWORD_ENV])
    places = resolve_places(env)
    results = []
    for page in PAGES:
        measure = partial(
            client.measure,
            server.port,
            page.path.format(**places),
            headers=page_headers(page, cookies, token),
            concurrency=options.concurrency,
            time_limit=PAGE_TIME_LIMIT,
        )
        measure(requests=options.warmup)  # not counted
        result = report.page_result(page, measure(requests=options.requests))
        say(
            f"  {page.name:<14} p95 {result['p95_ms']} ms, {result['requests_per_second']}/s, errors {result['errors']}"
        )
        results.append(result)
    return results


def run(options: Options) -> dict[str, Any]:
    """One whole benchmark run; returns the report (also printed and written to bench/results/)."""
    database = Database.from_url(options.database_url)
    if options.redis_url:
        check_local(options.redis_url)
    password = "bench-" + secrets.token_urlsafe(12)
    load_before = report.load_average()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as local_dir:
        env = app_env(options, Path(local_dir), password)
        data, notes = prepare(database, options, env)
        token = create_token(env)
        say(f"Starting gunicorn ({WORKERS} workers) and measuring {len(PAGES)} pages")
        report.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        with Server(env=env, log_path=report.RESULTS_DIR / "gunicorn.log") as server:
            pages = measure_pages(server, options, env, token)
            workers = report.worker_results(server.worker_memory())
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": {
            "size": options.size,
            "requests": options.requests,
            "warmup": options.warmup,
            "concurrency": options.concurrency,
            "workers": WORKERS,
        },
        "data": data,
        "database": {
            "engine": database.engine,
            "version": database.server_version(),
            "url": database.label(),
            "cache": "redis" if options.redis_url else "local files",
        },
        "machine": report.machine() | {"load_before": load_before, "load_after": report.load_average()},
        "pages": pages,
        "workers": workers,
        "notes": notes,
    }
    print(report.render_text(result))
    markdown, data_file = report.write(result)
    say(f"Written {markdown.relative_to(ROOT)} and {data_file.relative_to(ROOT)}")
    return result
