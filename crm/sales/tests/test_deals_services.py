"""The rules of deals (crm/sales/deals/services.py), for pages and API alike."""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from crm.core.exceptions import ConflictError
from crm.core.testing import make_user
from crm.sales.choices import DealStatus
from crm.sales.deals import services
from crm.sales.models import Deal, DealStageChange, LossReason

from .factories import make_pipeline, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(roles):
    return make_user(module="sales")


@pytest.fixture
def pipeline(db):
    return make_pipeline()


def test_create_takes_the_first_open_stage_and_its_probability(rep, pipeline):
    deal = services.deal_create(actor=rep, data={"name": "Order", "amount": "1000", "currency": "eur"})
    assert deal.stage == stage(pipeline, "Qualification")
    assert deal.probability == 10 and deal.currency == "EUR" and deal.amount == Decimal("1000")
    assert deal.owner == rep and deal.status == DealStatus.OPEN
    change = deal.stage_changes.get()
    assert change.from_stage is None and change.to_stage == deal.stage and change.changed_by == rep


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": "1e999"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "dollars"}, "currency"),
        ({"expected_close_date": "31/02/2027"}, "expected_close_date"),
        ({"expected_close_date": "2027-02-31"}, "expected_close_date"),
        ({"name": ""}, "name"),
        ({"name": "x" * 10_000}, "name"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(rep, pipeline, data, field):
    before = Deal.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.deal_create(actor=rep, data={"name": "Order", **data})
    assert field in caught.value.message_dict
    assert Deal.objects.count() == before


def test_a_stage_of_another_pipeline_is_refused(rep, pipeline):
    other = make_pipeline("Renewals", is_default=False)
    deal = services.deal_create(actor=rep, data={"name": "Order"})
    with pytest.raises(ValidationError):
        services.deal_move(actor=rep, deal=deal, stage=stage(other, "Proposal"), version=deal.version)
    with pytest.raises(ValidationError):
        services.deal_create(actor=rep, data={"name": "X", "pipeline": pipeline, "stage": stage(other, "Proposal")})
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, "Qualification")
    assert deal.stage_changes.count() == 1


def test_every_move_is_a_row_and_closing_sets_status_and_date(rep, pipeline):
    deal = services.deal_create(actor=rep, data={"name": "Order", "amount": "100"})
    deal = services.deal_move(actor=rep, deal=deal, stage=stage(pipeline, "Proposal"), version=deal.version)
    assert deal.probability == 50
    deal = services.deal_close(actor=rep, deal=deal, won=True, version=deal.version)
    assert deal.status == DealStatus.WON and deal.probability == 100 and deal.closed_on is not None
    moves = list(deal.stage_changes.order_by("changed_at", "id").values_list("from_stage__name", "to_stage__name"))
    assert moves == [(None, "Qualification"), ("Qualification", "Proposal"), ("Proposal", "Won")]
    # Re-opened: the close date and loss details go.
    deal = services.deal_move(actor=rep, deal=deal, stage=stage(pipeline, "Negotiation"), version=deal.version)
    assert deal.status == DealStatus.OPEN and deal.closed_on is None


def test_a_lost_deal_keeps_reason_and_competitor(rep, pipeline):
    reason = LossReason.objects.create(name="Price")
    deal = services.deal_create(actor=rep, data={"name": "Order"})
    deal = services.deal_close(actor=rep, deal=deal, won=False, version=deal.version, loss_reason=reason)
    assert deal.status == DealStatus.LOST and deal.loss_reason == reason and deal.probability == 0


def test_a_stale_move_is_refused_and_changes_nothing(rep, pipeline):
    deal = services.deal_create(actor=rep, data={"name": "Order"})
    version = deal.version
    services.deal_move(actor=rep, deal=Deal.objects.get(pk=deal.pk), stage=stage(pipeline, "Proposal"), version=version)
    with pytest.raises(ConflictError):
        services.deal_move(
            actor=rep, deal=Deal.objects.get(pk=deal.pk), stage=stage(pipeline, "Negotiation"), version=version
        )
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, "Proposal")
    assert DealStageChange.objects.filter(deal=deal).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_people_dragging_the_same_card_at_once_one_wins(roles):
    pipeline = make_pipeline()
    first, second = make_user(module="sales"), make_user(module="sales")
    deal = services.deal_create(actor=first, data={"name": "Order"})
    results: list[str] = []
    barrier = threading.Barrier(2)
    # SQLite allows one writer at a time (the in-memory test database even refuses a second one
    # outright), so there the two drags take turns; PostgreSQL runs them truly at once.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def drag(user, target):
        try:
            barrier.wait()
            with turns:
                services.deal_move(actor=user, deal=Deal.objects.get(pk=deal.pk), stage=target, version=deal.version)
            results.append("moved")
        except ConflictError:
            results.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=drag, args=(first, stage(pipeline, "Proposal"))),
        threading.Thread(target=drag, args=(second, stage(pipeline, "Negotiation"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "moved"]
    deal.refresh_from_db()
    assert DealStageChange.objects.filter(deal=deal).count() == 2
    assert deal.stage_changes.order_by("-id").first().to_stage == deal.stage


def test_permissions(roles, pipeline):
    reader = make_user(module="sales", actions=("view",))
    with pytest.raises(PermissionDenied):
        services.deal_create(actor=reader, data={"name": "Order"})


def test_a_hidden_company_cannot_be_linked(roles, pipeline):
    from crm.customers.models import Company

    rep = make_user(module="sales", scope="own")
    rep.role.permissions["customers"] = ["view"]
    rep.role.save()
    hidden = Company.objects.create(name="Hidden", owner=make_user(module="customers"))
    with pytest.raises(ValidationError) as caught:
        services.deal_create(actor=rep, data={"name": "Order", "company": hidden})
    assert "company" in caught.value.message_dict


def test_pipeline_needs_open_won_and_lost_stages_and_keeps_stages_with_deals(admin_user, pipeline, rep):
    with pytest.raises(ValidationError):
        services.pipeline_save(
            actor=admin_user,
            pipeline=None,
            data={"name": "P"},
            stages=[{"name": "A", "probability": 10, "kind": "open"}],
            version=None,
        )
    deal = services.deal_create(actor=rep, data={"name": "Order"})
    rows = [
        {"id": s.pk, "name": s.name, "probability": s.probability, "kind": s.kind}
        for s in pipeline.stages.exclude(pk=deal.stage_id)
    ]
    with pytest.raises(ValidationError):
        services.pipeline_save(
            actor=admin_user, pipeline=pipeline, data={"name": "Sales"}, stages=rows, version=pipeline.version
        )
    assert pipeline.stages.filter(pk=deal.stage_id).exists()
    with pytest.raises(PermissionDenied):
        services.pipeline_save(actor=rep, pipeline=None, data={"name": "P"}, stages=[], version=None)


def test_an_activity_about_a_deal_counts_as_working_it(roles, pipeline):
    from crm.customers.models import Company, Contact

    rep = make_user(module="sales")
    rep.role.permissions["customers"] = ["view", "create"]
    rep.role.save()
    company = Company.objects.create(name="Acme", owner=rep)
    contact = Contact.objects.create(first_name="Ada", owner=rep, company=company)
    deal = services.deal_create(actor=rep, data={"name": "Order", "company": company, "contacts": [contact]})
    assert deal.last_activity_at is None
    activity = services.deal_log_activity(actor=rep, deal=deal, data={"kind": "note", "body": "Called them."})
    deal.refresh_from_db()
    assert deal.last_activity_at == activity.occurred_at
    assert (activity.related, activity.company, activity.contact) == (deal, company, contact)
    reader = make_user(module="sales", actions=("view",))
    with pytest.raises(PermissionDenied):
        services.deal_log_activity(actor=reader, deal=deal, data={"kind": "note", "body": "x"})


def test_a_deal_is_never_lost_without_a_reason_whatever_the_path(rep, pipeline):
    deal = services.deal_create(actor=rep, data={"name": "Order"})
    with pytest.raises(ValidationError) as caught:
        services.deal_move(actor=rep, deal=deal, stage=stage(pipeline, "Lost"), version=deal.version)
    assert "loss_reason" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.deal_close(actor=rep, deal=Deal.objects.get(pk=deal.pk), won=False, version=deal.version)
    with pytest.raises(ValidationError):
        services.deal_update(
            actor=rep, deal=Deal.objects.get(pk=deal.pk), data={"stage": stage(pipeline, "Lost")}, version=deal.version
        )
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN and deal.version == 1 and deal.stage_changes.count() == 1
