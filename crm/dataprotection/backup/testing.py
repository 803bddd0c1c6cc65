"""Helpers for tests of backups: empty target databases of either engine, a second Django connection
to read them, every table's rows in comparable form, and key pairs."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connection, connections

from . import catalogue, crypto
from .codec import encode_row, row_reader, select_list

ROOT = Path(settings.BASE_DIR)
_templates: dict[str, str] = {}


def identity(folder: Path, name: str = "key.txt") -> tuple[Path, str]:
    """A new key pair: (private key file, public key)."""
    secret, public = crypto.generate()
    path = folder / name
    crypto.write_identity(path, secret, public)
    return path, public


def env_for(database_url: str, local_dir: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    env["DATABASE_URL"] = database_url
    if local_dir is not None:
        env["CRM_LOCAL_DIR"] = str(local_dir)
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 (this interpreter and manage.py)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    return result


def postgres_server() -> dict[str, Any] | None:
    """The suite's PostgreSQL server settings, when the suite runs on PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    return dict(connection.settings_dict)


def postgres_url(name: str) -> str:
    server = postgres_server()
    assert server is not None
    password = f":{server['PASSWORD']}" if server.get("PASSWORD") else ""
    return f"postgres://{server['USER']}{password}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}"


def _postgres_admin(sql: str) -> None:
    import psycopg

    server = postgres_server()
    assert server is not None
    with psycopg.connect(postgres_url("postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _template(vendor: str, folder: Path) -> str:
    """A migrated, empty database of ``vendor`` (made once per test session)."""
    if vendor in _templates:
        return _templates[vendor]
    if vendor == "sqlite":
        path = folder / "template.sqlite3"
        url = f"sqlite:///{path}"
    else:
        name = f"{connection.settings_dict['NAME']}_bktemplate"[:60]
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres_admin(f'CREATE DATABASE "{name}"')
        url = postgres_url(name)
    # Migrated as a restore migrates (no post-migrate signals: no roles, content types, permissions).
    code = (
        "from django.db import connection; from django.db.migrations.executor import MigrationExecutor; "
        "e = MigrationExecutor(connection); e.migrate(e.loader.graph.leaf_nodes())"
    )
    result = manage(env_for(url, folder), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    if vendor == "sqlite":
        with connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _templates[vendor] = url
    return url


def empty_database(vendor: str, folder: Path, template_folder: Path) -> str:
    """The URL of a new, migrated, empty database of ``vendor`` (a copy of a migrated template)."""
    template = _template(vendor, template_folder)
    if vendor == "sqlite":
        path = folder / f"target-{secrets.token_hex(3)}.sqlite3"
        shutil.copyfile(template.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    name = f"{connection.settings_dict['NAME']}_bk_{secrets.token_hex(3)}"[:60]
    source = template.rsplit("/", 1)[-1]
    _postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return postgres_url(name)


def blank_database(vendor: str, folder: Path) -> str:
    """The URL of a new database with no tables at all."""
    if vendor == "sqlite":
        return f"sqlite:///{folder / f'blank-{secrets.token_hex(3)}.sqlite3'}"
    name = f"{connection.settings_dict['NAME']}_bk_{secrets.token_hex(3)}"[:60]
    _postgres_admin(f'CREATE DATABASE "{name}"')
    return postgres_url(name)


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        _postgres_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """A Django database connection (not registered under an alias) to the database at ``url``."""
    from django.db.utils import load_backend

    config = dj_database_url.parse(url)
    config.setdefault("OPTIONS", {})
    configured = connections.configure_settings({"default": dict(connection.settings_dict), "target": config})["target"]
    # Under the default alias (a connection of its own): Django's PostgreSQL extras look connections
    # up by alias when one opens.
    wrapper = load_backend(configured["ENGINE"]).DatabaseWrapper(configured, "default")
    try:
        yield wrapper
    finally:
        wrapper.close()


def tables_of(conn: Any = None, *, skip: tuple[str, ...] = ()) -> dict[str, list[bytes]]:
    """Every backed-up table of a database: its rows as canonical lines, sorted."""
    conn = conn or connection
    found: dict[str, list[bytes]] = {}
    for table in catalogue.backed_up():
        if table.name in skip:
            continue
        read = row_reader(conn.vendor, table.columns, formatted=True)
        cols = select_list(conn, table.columns)
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT {cols} FROM {conn.ops.quote_name(table.name)}")  # noqa: S608
            found[table.name] = sorted(encode_row(read(row)) for row in cursor.fetchall())
    return found


def rows(conn: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def differences(expected: dict[str, list[bytes]], actual: dict[str, list[bytes]]) -> dict[str, Any]:
    """Tables whose rows differ, with a few rows of each side, for an assertion message."""
    found: dict[str, Any] = {}
    for name in sorted(set(expected) | set(actual)):
        a, b = set(expected.get(name, [])), set(actual.get(name, []))
        if a != b:
            found[name] = {"missing": sorted(a - b)[:3], "unexpected": sorted(b - a)[:3]}
    return found
