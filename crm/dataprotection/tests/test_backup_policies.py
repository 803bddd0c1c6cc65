"""Every table is classified for incremental backups, and every column can be copied as stored."""

from __future__ import annotations

import pytest
from django.apps import apps

from crm.core import journal
from crm.dataprotection.backup import catalogue, policies
from crm.dataprotection.backup.codec import KINDS, column_kind


def test_every_model_has_a_backup_policy():
    """A new model must say how an incremental backup finds its changes (crm/dataprotection/backup/
    policies.py): journaled models are covered by the journal, the others need an entry in TABLES."""
    assert catalogue.unclassified() == []


def test_every_column_a_journaled_model_keeps_out_of_the_journal_is_watched_or_follows():
    """A journal-excluded column changes behind the journal's back unless said otherwise: list it in
    policies.JOURNAL_COLUMNS as watched (compared by hash) or as following the journaled fields."""
    assert catalogue.unclassified_journal_columns() == []


def test_policies_name_existing_models_and_columns():
    labels = {m._meta.label_lower for m in apps.get_models(include_auto_created=True)}
    stale = [label for label in policies.TABLES if label not in labels and not label.startswith("sample.")]
    assert stale == []
    for label, (watch, follows) in policies.JOURNAL_COLUMNS.items():
        if label not in labels:
            continue
        model = apps.get_model(label)
        names = {f.name for f in model._meta.local_concrete_fields}
        assert set(watch) | set(follows) <= names, label
        assert journal.is_registered(model), label
    for table in catalogue.tables():
        if table.policy.kind == policies.LOG and table.policy.time_column:
            assert table.policy.time_column in {f.name for f in table.model._meta.local_concrete_fields}


def test_every_column_has_a_converter():
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_concrete_fields:
            assert column_kind(field) in set(KINDS.values())


def test_only_sessions_and_the_backup_state_are_left_out():
    skipped = sorted(t.name for t in catalogue.tables() if t.policy.kind == policies.SKIP)
    assert skipped == ["dataprotection_backupdigest", "django_session"]


@pytest.mark.parametrize("label", ["customers.contact", "sales.deal", "core.journalentry", "auth.permission"])
def test_a_table_of_every_kind_is_in_the_catalogue(label):
    table = next(t for t in catalogue.tables() if t.label == label)
    assert table.columns and table.pk
