"""Checks that keep the code base honest, run with the suite: lint, formatting, types, migrations,
the production deploy check and complete translations."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.guardrails


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in (env or os.environ).items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)


def test_ruff_lint_and_format():
    lint = run(str(BIN / "ruff"), "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = run(str(BIN / "ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_on_core_services_and_selectors():
    layers = sorted(
        {str(p.relative_to(ROOT)) for name in ("services.py", "selectors.py") for p in ROOT.glob(f"crm/**/{name}")}
    )
    targets = ["crm/core", *(t for t in layers if not t.startswith("crm/core/"))]
    result = run(str(BIN / "mypy"), *targets)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_missing_migrations():
    result = run(
        sys.executable,
        "manage.py",
        "makemigrations",
        "--check",
        "--dry-run",
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "CRM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = run(sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(
        {"CRM_ENV": "production", "ALLOWED_HOSTS": "crm.example.com", "DJANGO_SETTINGS_MODULE": "config.settings"}
    )
    result = run(sys.executable, "manage.py", "check", env=env)
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_deploy_check_warns_when_production_has_no_redis():
    env = {
        **os.environ,
        "CRM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("REDIS_URL", None)
    result = run(sys.executable, "manage.py", "check", "--deploy", env=env)
    assert "crm.W001" in result.stdout + result.stderr


def test_every_message_is_translated_into_simplified_chinese():
    from babel.messages.pofile import read_po

    with (ROOT / "crm/locale/zh_Hans/LC_MESSAGES/django.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not missing, f"Untranslated: {missing[:10]}"
    assert not fuzzy, f"Fuzzy: {fuzzy[:10]}"


def test_catalogue_is_up_to_date_with_the_code(tmp_path):
    """Every translatable string in code and templates is in the catalogue (run `make messages`)."""
    import shutil

    work = tmp_path / "locale"
    shutil.copytree(ROOT / "crm/locale", work)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = run(
        sys.executable,
        "manage.py",
        "makemessages",
        "-l",
        "zh_Hans",
        "--no-location",
        "--no-obsolete",
        "-i",
        ".venv",
        "-i",
        "node_modules",
        "-i",
        "bench",
        "-i",
        "crm/core/tests/*",
        "-i",
        "tests/*",
        "-i",
        "staticfiles",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    try:
        from babel.messages.pofile import read_po

        with (ROOT / "crm/locale/zh_Hans/LC_MESSAGES/django.po").open("rb") as handle:
            fresh = {m.id for m in read_po(handle) if m.id}
        with (work / "zh_Hans/LC_MESSAGES/django.po").open("rb") as handle:
            committed = {m.id for m in read_po(handle) if m.id}
        assert fresh <= committed, f"Not in the catalogue: {sorted(map(str, fresh - committed))[:10]}"
    finally:
        shutil.copy(work / "zh_Hans/LC_MESSAGES/django.po", ROOT / "crm/locale/zh_Hans/LC_MESSAGES/django.po")


def test_no_template_comment_spans_lines():
    """Django ends a ``{# #}`` comment at the line's end: one that goes on is shown on the page."""
    import re

    opened = re.compile(r"\{#(?![^\n]*#\})")
    found = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sorted(ROOT.glob("crm/**/templates/**/*.html"))
        for text in [path.read_text(encoding="utf-8")]
        for match in opened.finditer(text)
    ]
    assert found == [], "use {% comment %} for comments of several lines: " + ", ".join(found)
