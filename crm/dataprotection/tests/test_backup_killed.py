"""A backup or a restore killed halfway (real processes, SIGKILL): the backup leaves no file under a
final name and its row is never complete; the next run marks it failed and succeeds. The restore
leaves the target's tables empty (its one transaction never committed); run again, it succeeds.

The database is of the suite's engine, with 150,000 journal entries so that there is a middle to
kill the process in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection

from crm.dataprotection.backup import catalogue, testing

pytestmark = pytest.mark.django_db(transaction=True)

ENTRIES = 150_000

SEED = """
from django.db import connection
from django.contrib.contenttypes.models import ContentType
from crm.customers.models import Contact
from crm.dataprotection.backup import services
services.backup_recipient_add(actor=None, name="Admin", public_key={public!r})
type_id = ContentType.objects.get_for_model(Contact).pk
rows = [("2025-01-01 00:00:00", "seed", "system", "update", type_id, str(n), f"Contact {{n}}", '{{"title": ["a", "b"]}}', "")
        for n in range({count})]
with connection.cursor() as cursor:
    cursor.executemany(
        "INSERT INTO core_journalentry (timestamp, actor_repr, source, action, content_type_id, object_id, object_repr,"
        " changes, request_id, prev_hash, entry_hash, content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '', '', '')",
        rows,
    )
print("seeded")
"""


def _start(env, *args):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=testing.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _kill_at(process, marker: str) -> list[str]:
    """Read the process's output until ``marker`` shows, then kill its whole process group."""
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                os.killpg(process.pid, signal.SIGKILL)
                break
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert any(marker in line for line in seen), "".join(seen)[-2000:]
    return seen


def _counts(url):
    with testing.connect(url) as conn:
        tables = set(conn.introspection.table_names())
        return {
            t.name: testing.rows(conn, f"SELECT COUNT(*) FROM {conn.ops.quote_name(t.name)}")[0][0]  # noqa: S608
            for t in catalogue.backed_up()
            if t.name in tables
        }


def test_a_killed_backup_and_a_killed_restore_leave_nothing_half_done(tmp_path, templates):
    vendor = connection.vendor
    source = testing.empty_database(vendor, tmp_path, templates)
    target = testing.empty_database(vendor, tmp_path, templates)
    folder = tmp_path / "backups"
    key, public = testing.identity(tmp_path)
    env = testing.env_for(source, tmp_path, CRM_BACKUP_DIR=str(folder), CRM_BACKUP_WORK_DIR=str(tmp_path / "work"))
    try:
        seeded = testing.manage(env, "shell", "-c", SEED.format(public=public, count=ENTRIES))
        assert seeded.returncode == 0, seeded.stderr

        # The backup dies while it reads the journal.
        _kill_at(_start(env, "backup", "--full"), "core_journalentry")
        with testing.connect(source) as conn:
            assert testing.rows(conn, "SELECT status FROM dataprotection_backup") == [("running",)]
        assert list(folder.glob("*.age")) == [] and list(folder.glob("*.json")) == []
        assert len(list(folder.glob(".*.partial"))) == 1

        # The next run marks it failed, cleans up and succeeds.
        again = testing.manage(env, "backup", "--full", "--quiet-progress")
        assert again.returncode == 0, again.stderr
        with testing.connect(source) as conn:
            states = testing.rows(conn, "SELECT status, error FROM dataprotection_backup ORDER BY started_at")
        assert [s for s, _e in states] == ["failed", "complete"] and "Interrupted" in states[0][1]
        files = list(folder.glob("*.age"))
        assert len(files) == 1 and list(folder.glob(".*.partial")) == []

        # The restore dies while it loads the journal: the target stays empty.
        restore_args = ["restore", "--identity", str(key), "--database-url", target, "--no-files", str(files[0])]
        _kill_at(_start(env, *restore_args), "loading core_journalentry")
        counts = _counts(target)
        assert counts and set(counts.values()) == {0}, {k: v for k, v in counts.items() if v}

        # Run again, it succeeds.
        done = testing.manage(env, *restore_args)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        restored, original = _counts(target), _counts(source)
        assert restored["core_journalentry"] > ENTRIES
        # As the source was when the backup was made (its own row was still running then).
        assert restored == original | {"dataprotection_backup": 2}
    finally:
        testing.drop_database(source)
        testing.drop_database(target)
