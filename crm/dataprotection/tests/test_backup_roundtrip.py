"""The proof: random changes through every write path (services behind the pages, the API, CSV import,
merging duplicates, the Django admin, background tasks, deletes, a privacy erasure), a full backup and
incrementals in between; restored into a fresh database, every table is identical to the original.

Runs on the suite's engine. When the suite runs on PostgreSQL the chain is also restored into SQLite,
backed up there and restored back into PostgreSQL (cross-engine both ways)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Team
from crm.accounts.tests.factories import UserFactory
from crm.core.attachments import services as attachment_services
from crm.core.models import Attachment
from crm.core.testing import api_client
from crm.core.tests import attachment_samples as samples
from crm.customers import services as customer_services
from crm.customers.activities.services import activity_log, task_create, task_reminders_send
from crm.customers.io.testing import csv_bytes, start_import, upload
from crm.customers.merging import services as merging
from crm.customers.merging.undo import merge_undo
from crm.customers.models import Company, Contact, ContactEmail, Merge, Tag, Task
from crm.dataprotection import services as privacy_services
from crm.dataprotection.backup import crypto, engine, restore, testing
from crm.dataprotection.backup.choices import BackupKind, BackupStatus
from crm.dataprotection.models import Backup, ErasureRecord
from crm.sales.deals import services as deal_services
from crm.sales.models import Deal, Lead
from crm.sales.scoring import services as scoring_services
from crm.sales.tests.factories import make_deal, make_lead

pytestmark = pytest.mark.django_db(transaction=True)

# The backup machinery's own rows describe the backups being made: compared separately.
BOOKKEEPING = ("dataprotection_backup", "dataprotection_backupdigest")


@pytest.fixture
def boss(roles):
    return UserFactory(username="boss", role=roles["administrator"], is_staff=True, is_superuser=True)


def world(boss):
    rng = random.Random(7)
    tags = [customer_services.tag_get_or_create(actor=boss, name=name) for name in ("VIP", "Partner", "Press")]
    companies = [
        customer_services.company_create(actor=boss, data={"name": f"Company {i}", "website": f"https://c{i}.example"})
        for i in range(4)
    ]
    for i in range(12):
        customer_services.contact_create(
            actor=boss,
            data={
                "first_name": f"Person{i}",
                "last_name": rng.choice(["Lovelace", "Hopper", "Turing"]),
                "company": rng.choice(companies),
                "street": f"{i} Analytical Street",
                "date_of_birth": "1985-12-10",
                "emails": [{"email": f"p{i}@example.com"}],
                "phones": [{"number": "+442079460018"}],
                "tags": rng.sample(tags, 2),
            },
        )
    contact = Contact.objects.order_by("pk").first()
    attachment_services.attachment_upload(actor=boss, obj=contact, file=samples.upload("notes.txt", samples.TEXT))
    deal = make_deal(owner=boss, name="Engine", amount=Decimal("1200.50"), currency="EUR")
    deal.contacts.add(contact)
    for i in range(3):
        make_lead(owner=boss, name=f"Lead {i}", email=f"lead{i}@example.com", industry="Software")
    task_create(
        actor=boss,
        data={
            "title": "Call back",
            "assignee": boss,
            "contact": contact,
            "due_at": timezone.now() - timedelta(hours=1),
        },
    )


def changes(round_: int, boss, client) -> None:
    """One round of changes through every write path."""
    rng = random.Random(round_)
    contacts = list(Contact.objects.order_by("pk"))
    # Services behind the pages
    target = rng.choice(contacts)
    customer_services.contact_update(
        actor=boss,
        contact=target,
        data={"title": f"Title {round_}", "tags": [Tag.objects.first()]},
        version=target.version,
    )
    mailed = Contact.objects.get(pk=rng.choice(contacts).pk)
    customer_services.contact_update(
        actor=boss,
        contact=mailed,
        data={"emails": [{"email": mailed.email or "x@example.com"}, {"email": f"second{round_}@example.com"}]},
        version=mailed.version,
    )
    again = Contact.objects.get(pk=rng.choice(contacts).pk)
    customer_services.contact_update(
        actor=boss, contact=again, data={}, version=again.version
    )  # a save that changes nothing
    company = rng.choice(list(Company.objects.order_by("pk")))
    customer_services.company_update(
        actor=boss, company=company, data={"industry": f"Industry {round_}"}, version=company.version
    )
    activity_log(actor=boss, data={"kind": "note", "body": f"Round {round_}", "contact": rng.choice(contacts)})
    deal = make_deal(owner=boss, name=f"Deal {round_}", amount=Decimal("10.00"))
    deal_services.deal_log_activity(actor=boss, deal=deal, data={"kind": "call", "subject": "Call"})
    # The API, through the test client
    api = api_client(boss)
    created = api.post(
        reverse("customers-api:contact-list"), {"first_name": f"Api{round_}", "last_name": "Made"}, format="json"
    )
    assert created.status_code == 201, created.content
    edited = Contact.objects.get(pk=created.json()["id"])
    response = api.patch(
        reverse("customers-api:contact-detail", args=[edited.pk]),
        {"title": "Via API", "version": edited.version},
        format="json",
    )
    assert response.status_code == 200, response.content
    # CSV import (a job, run at commit)
    rows = [["First name", "Last name", "Email"], [f"Imported{round_}", "Row", f"imp{round_}@example.com"]]
    response = start_import(client, upload(csv_bytes(rows)), duplicates="create")
    assert response.status_code == 302
    # The Django admin
    response = client.post(
        reverse("admin:accounts_team_add"), {"name": f"Team {round_}", "description": "", "members": [boss.pk]}
    )
    assert response.status_code == 302, response.content[:500]
    # Background tasks: reminders, lead rescoring (derived columns written behind the journal)
    task_create(
        actor=boss,
        data={
            "title": f"Remind {round_}",
            "assignee": boss,
            "contact": rng.choice(contacts),
            "reminder_at": timezone.now(),
        },
    )
    task_reminders_send(now=timezone.now() + timedelta(minutes=1))
    scoring_services.scoring_rule_create(
        actor=boss,
        data={
            "name": f"Rule {round_}",
            "field": "industry",
            "operator": "equals",
            "value": "Software",
            "points": 5 + round_,
        },
    )
    # Merging duplicates
    first, second = Contact.objects.order_by("pk")[:2]
    merging.contact_merge(
        actor=boss,
        ids=[first.pk, second.pk],
        survivor_id=first.pk,
        versions={first.pk: first.version, second.pk: second.version},
    )
    # Deletes
    doomed = Contact.objects.filter(first_name__startswith="Person").order_by("-pk").first()
    customer_services.contact_delete(actor=boss, contact=doomed)
    if round_ == 2:
        customer_services.tag_delete(actor=boss, tag=Tag.objects.get(name="Press"))
        merge_undo(actor=boss, merge=Merge.objects.order_by("pk").first())
    if round_ == 3:
        person = Contact.objects.filter(first_name__startswith="Person").order_by("pk").last()
        request = privacy_services.privacy_request_create(
            actor=boss, kind="erase", subject_kind="contact", subject_id=person.pk
        )
        privacy_services.privacy_request_start(actor=boss, request=request)


def test_a_chain_restores_identical_on_a_fresh_database(backups, boss, client, templates):
    client.force_login(boss)
    world(boss)
    full = engine.run_backup(requested=BackupKind.FULL)
    after = {}
    for round_ in (1, 2, 3):
        changes(round_, boss, client)
        made = engine.run_backup(requested=BackupKind.INCREMENTAL)
        assert made.kind == BackupKind.INCREMENTAL and made.status == BackupStatus.COMPLETE, made.manifest.get(
            "full_reason"
        )
        after[round_] = (made, testing.tables_of(skip=BOOKKEEPING))
    # Every path did write something.
    assert Contact.objects.filter(first_name__startswith="Imported").count() == 3
    assert Contact.objects.filter(first_name__startswith="Api", title="Via API").count() == 3
    assert Team.objects.filter(name__startswith="Team ").count() == 3
    assert Merge.objects.count() == 3 and Merge.objects.filter(undone_at__isnull=False).count() == 1
    assert ErasureRecord.objects.count() == 1 and ErasureRecord.objects.get().email_hashes
    assert Lead.objects.filter(score__gt=0).exists()
    assert Task.objects.filter(reminded_at__isnull=False).exists()
    assert Deal.objects.filter(last_activity_at__isnull=False).exists()
    assert ContactEmail.objects.filter(email__startswith="second").exists()
    chain = list(Backup.objects.filter(chain=full.chain).order_by("sequence"))
    assert [b.sequence for b in chain] == [0, 1, 2, 3]
    files = [backups["dir"] / b.file_name for b in chain]
    identities = crypto.read_identities(backups["key"])
    vendor = connection.vendor

    # The whole chain, into a fresh database of the suite's engine.
    target = testing.empty_database(vendor, backups["tmp"], templates)
    try:
        result = restore.restore(
            restore.local_sources(files),
            identities,
            database_url=target,
            media_root=str(backups["tmp"] / "restored-media"),
        )
        assert result["backups"] == [b.uid for b in chain]
        with testing.connect(target) as conn:
            restored = testing.tables_of(conn, skip=BOOKKEEPING)
            uids = sorted(
                uid for (uid,) in testing.rows(conn, "SELECT uid FROM dataprotection_backup WHERE status = 'complete'")
            )
        assert testing.differences(after[3][1], restored) == {}
        assert uids == sorted(b.uid for b in chain)
        for name in Attachment.objects.values_list("file", flat=True):
            assert (backups["tmp"] / "restored-media" / name).read_bytes() == samples.TEXT
    finally:
        testing.drop_database(target)

    # A point in time: the chain up to the first incremental only.
    target = testing.empty_database(vendor, backups["tmp"], templates)
    try:
        until = after[1][0].snapshot_at  # the first incremental's moment: the second is after it
        restore.restore(restore.local_sources(files), identities, database_url=target, until=until, write_files=False)
        with testing.connect(target) as conn:
            assert testing.differences(after[1][1], testing.tables_of(conn, skip=BOOKKEEPING)) == {}
    finally:
        testing.drop_database(target)


def test_a_restored_database_backs_up_and_restores_again_across_engines(backups, boss, client, templates):
    """The chain restored into the other engine (PostgreSQL suite: SQLite), a full backup of that
    database made there by its own process, restored back into the suite's engine: identical to the
    original each time (on a SQLite suite both databases are SQLite)."""
    client.force_login(boss)
    world(boss)
    engine.run_backup(requested=BackupKind.FULL)
    changes(1, boss, client)
    last = engine.run_backup(requested=BackupKind.INCREMENTAL)
    original = testing.tables_of(skip=BOOKKEEPING)
    chain = list(Backup.objects.filter(chain=last.chain).order_by("sequence"))
    identities = crypto.read_identities(backups["key"])
    vendor = connection.vendor
    other = "sqlite" if vendor == "postgresql" else vendor

    middle = testing.empty_database(other, backups["tmp"], templates)
    final = testing.empty_database(vendor, backups["tmp"], templates)
    try:
        sources = restore.local_sources([backups["dir"] / b.file_name for b in chain])
        restore.restore(sources, identities, database_url=middle, write_files=False)
        with testing.connect(middle) as conn:
            assert conn.vendor == other
            assert testing.differences(original, testing.tables_of(conn, skip=BOOKKEEPING)) == {}
        again = backups["tmp"] / "again"
        made = testing.manage(
            testing.env_for(
                middle, backups["tmp"], CRM_BACKUP_DIR=str(again), CRM_BACKUP_WORK_DIR=str(backups["tmp"] / "w2")
            ),
            "backup",
            "--full",
            "--quiet-progress",
        )
        assert made.returncode == 0, made.stderr
        files = sorted(again.glob("*.age"))
        assert len(files) == 1
        restore.restore(restore.local_sources(files), identities, database_url=final, write_files=False)
        with testing.connect(final) as conn:
            assert testing.differences(original, testing.tables_of(conn, skip=BOOKKEEPING)) == {}
    finally:
        testing.drop_database(middle)
        testing.drop_database(final)
