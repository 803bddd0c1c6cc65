"""Retention rules: dry run, applying (delete, anonymise), the log, the daily schedule, validation,
permissions and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from crm.core import privacy
from crm.core.choices import ChangeSource, JournalAction
from crm.core.models import JournalEntry
from crm.core.testing import make_user
from crm.customers import services as customer_services
from crm.customers.models import Contact
from crm.dataprotection import retention, tasks
from crm.dataprotection.choices import RequestStatus
from crm.dataprotection.models import RetentionRule, RetentionRun, SuppressedEmail
from crm.sales.choices import LeadStatus
from crm.sales.models import Lead
from crm.sales.tests.factories import make_lead

pytestmark = pytest.mark.django_db


def aged(obj, *, months: int) -> None:
    """Make a record look last active ``months`` months ago."""
    then = timezone.now() - timedelta(days=31 * months)
    fields = {"updated_at": then}
    if isinstance(obj, Lead):
        fields["touched_at"] = then
    type(obj)._base_manager.filter(pk=obj.pk).update(**fields)


@pytest.fixture
def leads(admin_user):
    old = [make_lead(owner=admin_user, name=f"Old {i}", email=f"old{i}@example.com") for i in range(3)]
    recent = make_lead(owner=admin_user, name="Recent", email="recent@example.com")
    converted = make_lead(owner=admin_user, name="Converted", status=LeadStatus.CONVERTED, converted_at=timezone.now())
    for lead in (*old, converted):
        aged(lead, months=30)
    aged(recent, months=3)
    return {"old": old, "recent": recent, "converted": converted}


def lead_rule(user, action="delete", months=24, active=True):
    return retention.retention_rule_create(
        actor=user, data={"record_type": "lead", "months": months, "action": action, "active": active}
    )


def apply(rule, user, capture):
    with capture(execute=True):
        run = retention.retention_rule_apply_start(actor=user, rule=rule)
    run.refresh_from_db()
    return run


def test_both_record_types_are_declared():
    assert {"lead", "contact"} <= set(privacy.privacy.retention)


def test_a_dry_run_counts_the_inactive_records_and_changes_nothing(admin_user, leads):
    rule = lead_rule(admin_user)
    before = list(Lead.objects.order_by("pk").values())
    run, sample = retention.retention_rule_dry_run(actor=admin_user, rule=rule)
    assert run.matched == 3 and run.dry_run and run.changed == 0 and run.status == RequestStatus.DONE
    assert [lead.pk for lead in sample] == [lead.pk for lead in leads["old"]]
    assert list(Lead.objects.order_by("pk").values()) == before
    assert RetentionRun.objects.get().started_by == admin_user


def test_the_dry_run_lists_twenty_records_at_most(admin_user):
    for i in range(25):
        aged(make_lead(owner=admin_user, name=f"Lead {i}"), months=30)
    run, sample = retention.retention_rule_dry_run(actor=admin_user, rule=lead_rule(admin_user))
    assert run.matched == 25 and len(sample) == retention.PREVIEW == 20


def test_applying_deletes_exactly_the_inactive_unconverted_leads_and_journals_each(
    admin_user, leads, django_capture_on_commit_callbacks
):
    run = apply(lead_rule(admin_user), admin_user, django_capture_on_commit_callbacks)
    assert (run.matched, run.changed, run.skipped, run.status) == (3, 3, 0, RequestStatus.DONE)
    assert run.job is not None and run.job.status == "succeeded" and not run.dry_run
    assert set(Lead.objects.values_list("pk", flat=True)) == {leads["recent"].pk, leads["converted"].pk}
    deletions = JournalEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), action=JournalAction.DELETE
    )
    assert sorted(deletions.values_list("object_id", flat=True)) == sorted(str(lead.pk) for lead in leads["old"])
    assert set(deletions.values_list("source", flat=True)) == {ChangeSource.TASK}

    # Applying again finds nothing more: nothing is repeated.
    again = apply(RetentionRule.objects.get(), admin_user, django_capture_on_commit_callbacks)
    assert (again.matched, again.changed) == (0, 0)
    assert Lead.objects.count() == 2


def test_applying_anonymises_with_the_privacy_anonymisers_without_suppressing(
    admin_user, leads, django_capture_on_commit_callbacks
):
    run = apply(lead_rule(admin_user, action="anonymise"), admin_user, django_capture_on_commit_callbacks)
    assert (run.matched, run.changed) == (3, 3)
    for lead in leads["old"]:
        lead.refresh_from_db()
        assert lead.name == privacy.erased_name() and lead.email == ""
    leads["recent"].refresh_from_db()
    leads["converted"].refresh_from_db()
    assert leads["recent"].name == "Recent" and leads["recent"].email == "recent@example.com"
    assert leads["converted"].name == "Converted"
    assert Lead.objects.count() == 5
    assert not SuppressedEmail.objects.exists()
    # Anonymised records are active again from now on: a dry run finds nothing left.
    again, _sample = retention.retention_rule_dry_run(actor=admin_user, rule=RetentionRule.objects.get())
    assert again.matched == 0


def test_the_daily_task_applies_every_active_rule_and_logs_it_as_the_schedule(admin_user, leads):
    old = customer_services.contact_create(actor=admin_user, data={"first_name": "Old", "last_name": "Contact"})
    fresh = customer_services.contact_create(actor=admin_user, data={"first_name": "Fresh", "last_name": "Contact"})
    aged(old, months=40)
    retention.retention_rule_create(
        actor=admin_user, data={"record_type": "contact", "months": 36, "action": "anonymise", "active": True}
    )
    lead_rule(admin_user, active=False)

    assert tasks.retention_apply_task() == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.first_name == "" and old.name == privacy.erased_name()
    assert fresh.first_name == "Fresh"
    assert Lead.objects.count() == 5  # the lead rule is inactive
    run = RetentionRun.objects.get()
    assert run.record_type == "contact" and run.started_by is None and run.job is None
    assert (run.matched, run.changed, run.dry_run, run.status) == (1, 1, False, RequestStatus.DONE)
    schedule = settings.CELERY_BEAT_SCHEDULE["apply-retention-rules"]
    assert schedule["task"] == "dataprotection.retention_apply_task" and schedule["schedule"] == 24 * 3600.0


def test_the_schedule_deletes_old_contacts(admin_user):
    old = customer_services.contact_create(actor=admin_user, data={"first_name": "Old", "last_name": "Contact"})
    aged(old, months=13)
    retention.retention_rule_create(
        actor=admin_user, data={"record_type": "contact", "months": 12, "action": "delete", "active": True}
    )
    tasks.retention_apply_task()
    assert not Contact.objects.filter(pk=old.pk).exists()
    entry = JournalEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Contact), object_id=str(old.pk), action=JournalAction.DELETE
    )
    assert entry.source == ChangeSource.TASK


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"record_type": "lead", "months": 0, "action": "delete"}, "months"),
        ({"record_type": "lead", "months": 601, "action": "delete"}, "months"),
        ({"record_type": "lead", "months": "soon", "action": "delete"}, "months"),
        ({"record_type": "planet", "months": 24, "action": "delete"}, "record_type"),
        ({"record_type": "lead", "months": 24, "action": "shred"}, "action"),
        ({"record_type": "keepsake", "months": 24, "action": "anonymise"}, "action"),
    ],
)
def test_bad_rules_are_refused_with_a_field_error(admin_user, monkeypatch, data, field):
    keepsake = privacy.RetentionTarget(
        "keepsake",
        "Keepsakes",
        Lead,
        records=lambda: Lead.objects.all(),
        inactive_since=lambda: F("updated_at"),
        actions=(privacy.DELETE,),
    )
    monkeypatch.setitem(privacy.privacy.retention, "keepsake", keepsake)
    with pytest.raises(ValidationError) as raised:
        retention.retention_rule_create(actor=admin_user, data=data)
    assert field in raised.value.message_dict
    assert not RetentionRule.objects.exists()


def test_one_rule_per_record_type(admin_user):
    lead_rule(admin_user)
    with pytest.raises(ValidationError) as raised:
        lead_rule(admin_user, months=12)
    assert "record_type" in raised.value.message_dict


def test_rules_are_created_edited_and_deactivated_from_the_pages(admin_client, admin_user):
    url = reverse("dataprotection:retention_create")
    response = admin_client.post(url, {"record_type": "lead", "months": "700", "action": "delete"})
    assert response.status_code == 400
    assert "Enter between 1 and 600 months." in response.content.decode()
    response = admin_client.post(url, {"record_type": "planet", "months": "24", "action": "delete"})
    assert response.status_code == 400 and "Choose one of the record types." in response.content.decode()
    assert not RetentionRule.objects.exists()

    response = admin_client.post(url, {"record_type": "lead", "months": "24", "action": "delete", "active": "on"})
    assert response.status_code == 302
    rule = RetentionRule.objects.get()
    assert (rule.months, rule.action, rule.active, rule.created_by) == (24, "delete", True, admin_user)

    edit = reverse("dataprotection:retention_edit", args=[rule.pk])
    assert admin_client.post(edit, {"record_type": "lead", "months": "36", "action": "anonymise"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.months, rule.action, rule.active) == (36, "anonymise", False)
    assert JournalEntry.objects.filter(content_type=ContentType.objects.get_for_model(RetentionRule)).count() == 2


def test_the_dry_run_and_apply_buttons(admin_client, admin_user, leads, django_capture_on_commit_callbacks):
    rule = lead_rule(admin_user)
    page = admin_client.post(reverse("dataprotection:retention_dry_run", args=[rule.pk])).content.decode()
    assert 'data-testid="dry-run-count"' in page and "3 records" in page and "Old 0" in page
    assert Lead.objects.count() == 5
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("dataprotection:retention_apply", args=[rule.pk]))
    assert response.status_code == 302
    assert Lead.objects.count() == 2
    page = admin_client.get(reverse("dataprotection:retention_list")).content.decode()
    assert page.count('data-testid="run"') == 2 and "Dry run" in page and "Applied" in page


def test_without_the_permission_every_page_refuses(client, admin_user, roles):
    rule = lead_rule(admin_user)
    rep = make_user(module="customers")
    client.force_login(rep)
    for url in (reverse("dataprotection:retention_list"), reverse("dataprotection:retention_create")):
        assert client.get(url).status_code == 403
    assert client.get(reverse("dataprotection:retention_edit", args=[rule.pk])).status_code == 403
    for name in ("retention_dry_run", "retention_apply"):
        assert client.post(reverse(f"dataprotection:{name}", args=[rule.pk])).status_code == 403
    assert (
        client.post(
            reverse("dataprotection:retention_create"), {"record_type": "contact", "months": "1", "action": "delete"}
        ).status_code
        == 403
    )

    viewer = make_user(module="dataprotection", actions=("view",))
    client.force_login(viewer)
    assert client.get(reverse("dataprotection:retention_list")).status_code == 200
    assert client.post(reverse("dataprotection:retention_apply", args=[rule.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        retention.retention_rule_apply_start(actor=viewer, rule=rule)
    assert not RetentionRun.objects.exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pages_render_in_english_and_chinese(admin_client, admin_user, leads, language):
    rule = lead_rule(admin_user)
    retention.retention_rule_dry_run(actor=admin_user, rule=rule)
    admin_client.cookies["django_language"] = language
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    for url in (
        reverse("dataprotection:retention_list"),
        reverse("dataprotection:retention_create"),
        reverse("dataprotection:retention_edit", args=[rule.pk]),
    ):
        response = admin_client.get(url, **headers)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.content.decode()
    response = admin_client.post(reverse("dataprotection:retention_dry_run", args=[rule.pk]), **headers)
    assert response.status_code == 200


def test_the_empty_list_invites_a_first_rule(admin_client):
    page = admin_client.get(reverse("dataprotection:retention_list")).content.decode()
    assert "No retention rules" in page and "No rule has been run yet." in page
