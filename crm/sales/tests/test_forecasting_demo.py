"""The demo data of the forecast: quotas for the demo reps, then the forecast of every scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from crm.accounts.tests.factories import UserFactory
from crm.core.registry import platform
from crm.sales.forecasting import demo
from crm.sales.forecasting.series import add_months
from crm.sales.models import ForecastRun, Quota
from crm.sales.tests.test_forecasting_job import build_history

pytestmark = pytest.mark.django_db


def test_the_demo_builder_is_registered_after_the_deals():
    builder = platform.demo["sales-forecast"]
    assert builder.order == 45 and builder.build is demo.build
    assert platform.demo["sales-deals"].order < builder.order


def test_demo_quotas_for_the_reps_then_the_forecast(roles):
    history = build_history(months=24, reps=1)
    seller = history.people[0]
    seller.role = roles["sales_rep"]
    seller.save()
    newcomer = UserFactory(role=roles["sales_manager"])
    UserFactory(role=roles["marketing"])  # not a seller: no quota

    demo.build()

    current = timezone.localdate().replace(day=1)
    months = {add_months(current, step) for step in range(-12, 6)}
    for person in (seller, newcomer):
        assert set(Quota.objects.filter(user=person).values_list("month", flat=True)) == months
    assert Quota.objects.count() == 2 * 18
    # A round amount above what the rep usually wins; a default for someone without history.
    amount = Quota.objects.filter(user=seller).values_list("amount", flat=True).first()
    assert amount % 1000 == 0 and amount > Decimal("10000")
    assert Quota.objects.filter(user=newcomer).first().amount == demo.DEFAULT_QUOTA
    assert ForecastRun.objects.filter(scope="all").exists()

    demo.build()  # again: no second quota
    assert Quota.objects.count() == 2 * 18
