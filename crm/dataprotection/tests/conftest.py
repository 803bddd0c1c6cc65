"""Fixtures of the backup tests."""

from __future__ import annotations

import pytest

from crm.dataprotection.backup import services, testing


@pytest.fixture
def backups(settings, tmp_path):
    """Backups in a folder of the test's own, encrypted to one administrator's new key."""
    settings.CRM_BACKUP_DIR = tmp_path / "backups"
    settings.CRM_BACKUP_WORK_DIR = tmp_path / "work"
    settings.MEDIA_ROOT = tmp_path / "media"
    key, public = testing.identity(tmp_path)
    services.backup_recipient_add(actor=None, name="Admin", public_key=public)
    return {"key": key, "dir": tmp_path / "backups", "tmp": tmp_path}


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Where restores keep migrated template databases between tests of a session."""
    return tmp_path_factory.mktemp("backup-templates")
