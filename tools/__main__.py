"""Set-up and start-up steps of the CRM, in Python so they work wherever Python does.

    python3 -m tools run     # environment, assets, database, demo data; server + worker
    python3 -m tools test    # environment, then the whole test suite
    python3 -m tools bench   # the benchmark suite

Only the standard library is used here: this runs before the virtual environment exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCAL = ROOT / ".local"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LOCKS = [ROOT / "requirements" / "base.lock", ROOT / "requirements" / "dev.lock"]


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_python_env() -> None:
    """Create .venv and install the locked dependencies (again only when a lock file changed)."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs on whatever python3 is first)
        sys.exit("Python 3.11 or newer is needed.")
    if not PYTHON.exists():
        say("Creating the virtual environment (.venv)")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".locks-installed"
    wanted = _digest(LOCKS)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say("Installing Python dependencies from requirements/*.lock")
    args = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for lock in LOCKS:
        args += ["-r", str(lock)]
    subprocess.run(args, check=True, cwd=ROOT)
    stamp.write_text(wanted)


def ensure_assets() -> None:
    """Install the front-end libraries of package.json (again only when the lock changed)."""
    lock = ROOT / "package-lock.json"
    stamp = ROOT / "node_modules" / ".lock-installed"
    wanted = _digest([lock])
    if stamp.exists() and stamp.read_text() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed to install the front-end libraries (package.json). Install Node.js and try again.")
    say("Installing front-end libraries from package-lock.json")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], check=True, cwd=ROOT)
    stamp.write_text(wanted)


def ensure_field_keys() -> None:
    """A development key file for the encrypted fields, made once (.local/field-keys.json). Never made
    when keys are configured elsewhere, nor beside a database that already holds encrypted values
    (a new key could not read them: the start-up error then says to restore the lost file)."""
    if os.environ.get("CRM_KEY_FILE") or os.environ.get("CRM_FIELD_KEYS"):
        return
    path = LOCAL / "field-keys.json"
    if path.exists():
        return
    database = LOCAL / "crm.sqlite3"
    if not os.environ.get("DATABASE_URL") and database.exists() and _holds_encrypted_values(database):
        return
    sys.path.insert(0, str(ROOT))
    from crm.core.crypto import keyfile

    keyfile.create(path)
    say(f"Created the development key file for encrypted fields ({path.relative_to(ROOT)})")


def _holds_encrypted_values(database: Path) -> bool:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT 1 FROM customers_contactphone WHERE number LIKE '%enc1:%' LIMIT 1")
            return row.fetchone() is not None
    except sqlite3.Error:
        return False


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], check=True, cwd=ROOT, env=env)


def run() -> int:
    ensure_python_env()
    ensure_assets()
    say("Preparing the database and demo data")
    manage("prepare", "--demo")
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    children = [
        subprocess.Popen([str(PYTHON), "manage.py", "runserver", f"{host}:{port}", "--noreload"], cwd=ROOT),
        subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--beat",
                "--pool=solo",
                "--loglevel=warning",
                "--schedule",
                str(LOCAL / "celerybeat-schedule"),
            ],
            cwd=ROOT,
        ),
    ]
    time.sleep(2)
    print()
    print(f"  The CRM is running at http://{host}:{port}/  (a background worker runs beside it)")
    print("  Demo logins (username, password, role):")
    subprocess.run([str(PYTHON), "manage.py", "demo_logins"], cwd=ROOT)
    print("  Stop with Ctrl-C.")
    print(flush=True)
    return _wait(children)


def _wait(children: list[subprocess.Popen[bytes]]) -> int:
    def stop(*_args: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return max((child.returncode or 0) for child in children)


def test(extra: list[str]) -> int:
    ensure_python_env()
    ensure_assets()
    manage("compile_translations")
    from tools import testenv

    return testenv.run_suite(PYTHON, ROOT, extra)


def bench(extra: list[str]) -> int:
    ensure_python_env()
    ensure_assets()
    return subprocess.run([str(PYTHON), "-m", "bench", *extra], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "bench", "setup"}:
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    ensure_field_keys()
    if command == "setup":
        ensure_python_env()
        ensure_assets()
        return 0
    if command == "run":
        return run()
    if command == "test":
        return test(extra)
    return bench(extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
