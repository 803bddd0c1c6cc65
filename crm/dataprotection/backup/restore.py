"""Restoring a chain (``chain.prepare`` checked and decrypted it) into an empty database.

``load`` runs in a process whose default database is the target (``restore`` starts ``manage.py
restore --load-prepared`` with ``DATABASE_URL`` set): it refuses a target that holds data, migrates it
to the backup's schema, and in ONE transaction loads the full backup, applies the incrementals, resets
the key sequences, checks every table against the manifests (row counts, checksums), writes the
attached files, merges the erasure ledger and erases again everyone it lists. A restore stopped
anywhere before the commit leaves the target's tables empty. A backup made with older migrations is
brought up to date afterwards by ``migrate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from . import archive, catalogue, destinations, ledger
from .chain import (
    Prepared,
    RestoreError,
    Source,
    chain_from_destination,
    fetch,
    local_sources,
    prepare,
)
from .loader import Loader, VerificationError

__all__ = [
    "RestoreError",
    "Source",
    "chain_from_destination",
    "fetch",
    "load",
    "local_sources",
    "prepare",
    "restore",
]

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    return None


# --- loading (in the process whose default database is the target) --------------------------------------------


def check_empty() -> None:
    """Refuse a target that holds data (a half restore that was stopped left empty tables: fine)."""
    tables = set(connection.introspection.table_names())
    if not tables:
        return
    for table in catalogue.tables():
        if table.name not in tables or table.policy.kind == "skip":
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table.name)} LIMIT 1")  # noqa: S608
            if cursor.fetchone():
                raise RestoreError(
                    _(
                        "The target database is not empty (%(table)s holds rows): restore into an empty database "
                        "(created, not migrated: the restore migrates it)."
                    )
                    % {"table": table.name}
                )


def migrate_to(schema: dict[str, list[str]]) -> None:
    """Bring the (empty) target to exactly the backup's migrations."""
    executor = MigrationExecutor(connection)
    applied = set(MigrationRecorder(connection).applied_migrations())
    wanted = {(app, name) for app, names in schema.items() for name in names}
    if applied - wanted:
        extra = ", ".join(f"{a}.{n}" for a, n in sorted(applied - wanted)[:5])
        raise RestoreError(
            _("The target database has migrations the backup does not have: %(list)s.") % {"list": extra}
        )
    graph = executor.loader.graph
    targets = []
    for app, names in schema.items():
        nodes = [(app, n) for n in names if (app, n) in graph.nodes]
        leaves = [
            n for n in nodes if not any(child in nodes for child in graph.node_map[n].children if child[0] == app)
        ]
        targets.extend(leaves)
    plan = executor.migration_plan(targets)
    if plan:
        executor.migrate(targets, plan=plan)


def _opener(path: Any) -> IO[bytes]:
    return open(path, "rb")


def _write_files(prepared: Prepared, progress: Progress) -> dict[str, Any]:
    """The attached files of the restored rows, into the default storage (skipping identical ones)."""
    from django.core.files import File
    from django.core.files.storage import default_storage
    from django.core.files.temp import NamedTemporaryFile

    with connection.cursor() as cursor:
        cursor.execute("SELECT file FROM core_attachment")
        wanted = {row[0] for row in cursor.fetchall() if row[0]}
    written: set[str] = set()
    for entry in reversed(prepared.files):  # the newest copy of a file wins
        with open(entry["plain"], "rb") as stream:
            name = None
            spool: Any = None
            for tag, payload in archive.frames(stream):
                if tag == archive.FILE:
                    meta = archive.read_json(payload)
                    name = meta["name"] if meta["name"] in wanted and meta["name"] not in written else None
                    if name is not None:
                        spool = NamedTemporaryFile()
                elif tag == archive.FILE_BYTES and name is not None:
                    spool.write(payload)
                elif tag == archive.FILE_END and name is not None:
                    end = archive.read_json(payload)
                    spool.flush()
                    spool.seek(0)
                    if not _same_file(default_storage, name, end["sha256"]):
                        if default_storage.exists(name):
                            default_storage.delete(name)
                        saved = default_storage.save(name, File(spool))
                        if saved != name:
                            raise RestoreError(_("The storage renamed %(name)s.") % {"name": name})
                    spool.close()
                    written.add(name)
                    name = None
                    if len(written) % 50 == 0:
                        progress(92, _("%(count)d files restored") % {"count": len(written)})
    return {"written": len(written), "missing": sorted(wanted - written)[:100]}


def _same_file(storage: Any, name: str, sha256: str) -> bool:
    if not storage.exists(name):
        return False
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest() == sha256


def _reapply(prepared: Prepared) -> dict[str, int]:
    """Merge the erasure ledger and erase again whoever it lists; mark the restored backups complete
    (their rows were read while they were being made)."""
    from crm.core import context
    from crm.core.choices import ChangeSource

    from ..models import Backup
    from ..services import reapply_erasures
    from .choices import BackupStatus

    for entry in prepared.files:
        header, trailer = entry["header"], entry["trailer"]
        Backup.objects.filter(uid=header["uid"]).update(
            status=BackupStatus.COMPLETE,
            error="",
            snapshot_at=dt.datetime.fromisoformat(header["created_at"]),
            journal_position=header["journal_position"],
            size=entry["size"],
            sha256=entry["sha256"],
            manifest={**header, **trailer, "files": {"count": len(trailer.get("files", []))}},
        )
    with context.change_context(source=ChangeSource.SYSTEM):
        merged = ledger.merge(prepared.ledger)
        erased = reapply_erasures()
    return {"ledger_merged": merged, "erased_again": erased}


def load(folder: Path, *, write_files: bool = True, progress: Progress = _no_progress) -> dict[str, Any]:
    """Load a prepared chain into the default database (see the module's docstring)."""
    prepared = Prepared.load(folder)
    first = prepared.files[0]
    last = prepared.files[-1]
    schema = first["header"]["schema"]
    check_empty()
    progress(5, _("Migrating the target to the backup's schema"))
    migrate_to(schema)
    code_is_newer = bool(
        MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    )
    loader = Loader(connection, progress)
    result: dict[str, Any] = {"backups": [f["header"]["uid"] for f in prepared.files]}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cursor.execute("PRAGMA defer_foreign_keys = ON")
        with open(first["plain"], "rb") as stream:
            loader.load_full(stream, first["trailer"])
        for entry in prepared.files[1:]:
            progress(70, _("Applying %(name)s") % {"name": entry["name"]})
            loader.apply_incremental(entry["plain"], _opener)
        loader.reset_sequences(last["trailer"].get("sequences", {}))
        counts = {name: int(info.get("count", info.get("rows", 0))) for name, info in last["trailer"]["tables"].items()}
        progress(75, _("Checking every table against the manifests"))
        try:
            result["tables"] = loader.verify(counts)
        except VerificationError as exc:
            raise RestoreError(_("The restored data does not match the backup: %(error)s") % {"error": exc}) from exc
        if write_files:
            progress(90, _("Restoring attached files"))
            result["files"] = _write_files(prepared, progress)
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()
        if not code_is_newer:
            progress(95, _("Erasing again the people erased since"))
            result.update(_reapply(prepared))
    if code_is_newer:
        from django.core.management import call_command

        progress(96, _("Applying the newer migrations"))
        call_command("migrate", verbosity=0, interactive=False)
        with transaction.atomic():
            result.update(_reapply(prepared))
    result["rows"] = sum(result["tables"].values())
    progress(100, _("Restored"))
    return result


def cleanup(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# --- the whole restore, as ``manage.py restore`` runs it --------------------------------------------------------

PROGRESS = "PROGRESS"
RESULT = "RESULT"
ERROR = "ERROR"


STALE_HOURS = 12


def scratch_folder() -> Path:
    """A new folder (mode 700) for a chain's decrypted files; folders a restore killed long ago left
    behind are removed first (they hold decrypted data)."""
    work = destinations.work_dir()
    limit = time.time() - STALE_HOURS * 3600
    for stale in work.glob("restore-*"):
        if stale.is_dir() and stale.stat().st_mtime < limit:
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix="restore-", dir=work))
    folder.chmod(0o700)
    return folder


def child_env(database_url: str, media_root: str | None) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    env["DATABASE_URL"] = database_url
    if media_root:
        env["MEDIA_ROOT"] = str(media_root)
        env.pop("S3_BUCKET", None)  # the files go to the folder named, not to the configured bucket
    return env


def run_child(
    folder: Path, database_url: str, *, media_root: str | None, write_files: bool, progress: Progress
) -> dict[str, Any]:
    """Load ``folder`` into ``database_url`` in a process of its own (whose default database it is)."""
    from django.conf import settings

    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "restore", "--load-prepared", str(folder)]
    if not write_files:
        command.append("--no-files")
    process = subprocess.Popen(  # noqa: S603 (this interpreter and manage.py, with arguments of our own)
        command,
        env=child_env(database_url, media_root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(settings.BASE_DIR),
    )
    result: dict[str, Any] | None = None
    error = ""
    other: list[str] = []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.rstrip("\n")
        if line.startswith(PROGRESS + " "):
            _tag, percent, message = [*line.split(" ", 2), ""][:3]
            progress(int(percent), message)
        elif line.startswith(RESULT + " "):
            result = json.loads(line[len(RESULT) + 1 :])
        elif line.startswith(ERROR + " "):
            error = line[len(ERROR) + 1 :]
        elif line.strip():
            other = [*other[-19:], line]
    code = process.wait()
    if code != 0 or result is None:
        raise RestoreError(
            error or (other[-1] if other else _("The restore stopped (exit status %(code)s).") % {"code": code})
        )
    return result


def restore(
    sources: list[Source],
    identities: list[Any],
    *,
    database_url: str,
    until: dt.datetime | None = None,
    ledger_entries: list[dict[str, Any]] | None = None,
    media_root: str | None = None,
    write_files: bool = True,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Check, decrypt and load a chain into the database at ``database_url``."""
    folder = scratch_folder()
    try:
        prepared = prepare(sources, identities, folder, until=until, ledger_entries=ledger_entries, progress=progress)
        result = run_child(folder, database_url, media_root=media_root, write_files=write_files, progress=progress)
        result["manifests"] = [{"uid": f["header"]["uid"], "tables": f["trailer"]["tables"]} for f in prepared.files]
        return result
    finally:
        cleanup(folder)
