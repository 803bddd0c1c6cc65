"""The benchmark's own database, recreated empty at the start of every run.

Because the run drops it, the database must be on this machine and its name must contain
"bench": a mistyped URL never reaches a database that holds real data.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


@dataclass(frozen=True)
class Database:
    url: str
    engine: str  # "postgresql" or "sqlite"
    name: str  # the database name, or the SQLite file's path

    @classmethod
    def from_url(cls, url: str) -> Database:
        parts = urlsplit(url)
        if parts.scheme in POSTGRES_SCHEMES:
            if (parts.hostname or "") not in LOCAL_HOSTS:
                raise ValueError(f"The benchmark only uses a database on this machine, not {parts.hostname}.")
            database = cls(url=url, engine="postgresql", name=parts.path.lstrip("/"))
        elif parts.scheme == "sqlite":
            database = cls(url=url, engine="sqlite", name=url.removeprefix("sqlite:///"))
        else:
            raise ValueError("DATABASE_URL must be postgres://... or sqlite:///...")
        if "bench" not in Path(database.name).name:
            raise ValueError(f"The run recreates its database: the name must contain 'bench' (got {database.name!r}).")
        return database

    def recreate(self) -> None:
        """Drop the database if it exists and create it empty."""
        if self.engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)
            return
        with psycopg.connect(self._maintenance_url(), autocommit=True, connect_timeout=5) as conn:
            name = sql.Identifier(self.name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def server_version(self) -> str:
        if self.engine == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"

    def label(self) -> str:
        """The URL without a password, for reports."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))

    def _maintenance_url(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path="/postgres"))
