"""Runs the test suite and says plainly what could not run on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_suite(python: Path, root: Path, extra: list[str]) -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    not_run = []
    marks = []
    browser = chromium_path()
    if browser:
        env["CHROMIUM_PATH"] = browser
    else:
        marks.append("not browser")
        not_run.append("browser tests (Chromium not found: install Debian's 'chromium' package, or set CHROMIUM_PATH)")
    for mark in filter(None, (m.strip() for m in env.get("CRM_TEST_EXCLUDE", "").split(","))):
        marks.append(f"not {mark}")
        not_run.append(f"tests marked '{mark}' (left out by CRM_TEST_EXCLUDE)")
    database = env.get("DATABASE_URL", "")
    engine = "PostgreSQL" if database.startswith(("postgres", "postgresql")) else "SQLite"
    if engine == "SQLite":
        not_run.append("PostgreSQL (set DATABASE_URL=postgres://... to run the suite there too)")
    if not env.get("REDIS_URL"):
        not_run.append("Redis as broker and cache (set REDIS_URL; the worker tests use the file-system broker instead)")
    args = [str(python), "-m", "pytest"]
    if marks:
        args += ["-m", " and ".join(marks)]
    args += extra
    print(f"==> Running the test suite on {engine}", flush=True)
    code = subprocess.run(args, cwd=root, env=env).returncode
    if not_run:
        print("\nNot run on this machine:")
        for item in not_run:
            print(f"  - {item}")
    return code
