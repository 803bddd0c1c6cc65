"""The series a forecast stands on: won amounts per month in the company's currency (converted at each
deal's closing day, deals without a rate left out and counted), and the weighted pipeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test.utils import override_settings

from crm.accounts.tests.factories import TeamFactory, UserFactory
from crm.sales.choices import DealStatus
from crm.sales.forecasting.scopes import ALL, OWNER, PIPELINE, TEAM, Scope
from crm.sales.forecasting.series import (
    add_months,
    collect,
    forecast_months,
    month_range,
    weighted_pipeline,
    won_series,
)
from crm.sales.models import ExchangeRate
from crm.sales.tests.factories import make_deal, make_pipeline, stage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("usd")]

TODAY = date(2026, 4, 15)


@pytest.fixture
def usd():
    with override_settings(CRM_CURRENCY="USD"):
        yield


def won(pipeline, *, amount, closed_on, currency="USD", owner=None, team=None):
    return make_deal(
        pipeline=pipeline,
        owner=owner,
        team=team,
        stage=stage(pipeline, "Won"),
        status=DealStatus.WON,
        amount=Decimal(amount),
        currency=currency,
        closed_on=closed_on,
        probability=100,
    )


def opened(pipeline, *, amount, close, probability=50, currency="USD", owner=None, team=None):
    return make_deal(
        pipeline=pipeline,
        owner=owner,
        team=team,
        stage=stage(pipeline, "Proposal"),
        amount=Decimal(amount),
        currency=currency,
        expected_close_date=close,
        probability=probability,
    )


def test_months_helpers():
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert month_range(date(2025, 11, 20), date(2026, 1, 1)) == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]
    assert forecast_months(TODAY, 3) == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]


def test_won_series_sums_by_month_with_zero_months_and_the_current_month_apart():
    pipeline = make_pipeline()
    won(pipeline, amount="100.00", closed_on=date(2025, 12, 3))
    won(pipeline, amount="50.50", closed_on=date(2025, 12, 28))
    won(pipeline, amount="70.00", closed_on=date(2026, 3, 31))
    won(pipeline, amount="30.00", closed_on=date(2026, 4, 2))  # the current month: kept apart
    won(pipeline, amount="999.00", closed_on=date(2026, 4, 20))  # after today: not yet
    make_deal(pipeline=pipeline, amount=Decimal("500"), expected_close_date=date(2026, 1, 5))  # open: not won

    series = won_series(Scope(ALL), today=TODAY)

    assert series.months == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert series.amounts == [Decimal("150.50"), Decimal("0"), Decimal("0"), Decimal("70.00")]
    assert series.current == Decimal("30.00")
    assert series.nonzero_months == 2
    assert series.skipped.deals == 0


def test_won_amounts_are_converted_at_the_rate_of_their_closing_day_and_deals_without_a_rate_are_counted():
    pipeline = make_pipeline()
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10"), valid_from=date(2025, 1, 1))
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.20"), valid_from=date(2026, 2, 15))
    won(pipeline, amount="100.00", closed_on=date(2026, 2, 10), currency="EUR")  # 1.10 -> 110.00
    won(pipeline, amount="100.00", closed_on=date(2026, 2, 20), currency="EUR")  # 1.20 -> 120.00
    won(pipeline, amount="5.00", closed_on=date(2026, 2, 20), currency="USD")
    won(pipeline, amount="100.00", closed_on=date(2026, 2, 20), currency="GBP")  # no rate at all
    won(pipeline, amount="100.00", closed_on=date(2026, 3, 1), currency="GBP")

    series = won_series(Scope(ALL), today=TODAY)

    assert series.amounts == [Decimal("235.00"), Decimal("0")]
    assert series.skipped.deals == 2
    assert series.skipped.currencies == {"GBP"}


def test_a_scope_reads_its_own_deals_in_one_query(django_assert_num_queries):
    pipeline, other = make_pipeline(), make_pipeline("Partners", is_default=False)
    rep, teammate, outsider = UserFactory(), UserFactory(), UserFactory()
    team = TeamFactory(members=[rep, teammate])
    won(pipeline, amount="10", closed_on=date(2026, 1, 5), owner=rep)
    won(pipeline, amount="20", closed_on=date(2026, 1, 6), owner=teammate)
    won(other, amount="40", closed_on=date(2026, 1, 7), owner=outsider, team=team)  # the team's, not a member's
    won(other, amount="80", closed_on=date(2026, 1, 8), owner=outsider)

    with django_assert_num_queries(2):  # the rates, then the deals
        assert won_series(Scope(OWNER, rep.pk), today=TODAY).amounts == [Decimal("10"), Decimal("0"), Decimal("0")]
    assert won_series(Scope(TEAM, team.pk), today=TODAY).amounts[0] == Decimal("70")
    assert won_series(Scope(PIPELINE, other.pk), today=TODAY).amounts[0] == Decimal("120")
    assert won_series(Scope(ALL), today=TODAY).amounts[0] == Decimal("150")


def test_weighted_pipeline_by_expected_close_month_with_overdue_in_the_current_month():
    pipeline = make_pipeline()
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("2"), valid_from=date(2025, 1, 1))
    opened(pipeline, amount="1000", close=date(2026, 4, 30), probability=50)  # 500
    opened(pipeline, amount="1000", close=date(2026, 1, 10), probability=10)  # overdue: 100 now
    opened(pipeline, amount="100", close=date(2026, 6, 1), probability=25, currency="EUR")  # 25 EUR = 50
    opened(pipeline, amount="300", close=None, probability=50)  # undated: 150
    opened(pipeline, amount="1000", close=date(2027, 9, 1), probability=75)  # later: 750
    opened(pipeline, amount="1000", close=date(2026, 5, 1), probability=50, currency="JPY")  # no rate

    result = weighted_pipeline(Scope(ALL), today=TODAY, horizon=12)

    assert result.months[0] == date(2026, 4, 1) and len(result.months) == 12
    assert result.amounts[0] == Decimal("600.00")
    assert result.deals[0] == 2
    assert result.amounts[1] == Decimal("0.00")
    assert result.amounts[2] == Decimal("50.00")
    assert (result.undated, result.undated_deals) == (Decimal("150.00"), 1)
    assert (result.later, result.later_deals) == (Decimal("750.00"), 1)
    assert result.skipped.deals == 1 and result.skipped.currencies == {"JPY"}


def test_collect_reads_every_scope_at_once_and_agrees_with_each_scope(django_assert_max_num_queries):
    pipeline, other = make_pipeline(), make_pipeline("Partners", is_default=False)
    reps = [UserFactory() for _ in range(6)]
    team = TeamFactory(members=reps[:3])
    for index, rep in enumerate(reps):
        for month in range(1, 4):
            won(
                pipeline if index % 2 else other,
                amount=f"{100 * (index + 1)}",
                closed_on=date(2026, month, 3),
                owner=rep,
            )
        opened(pipeline, amount="1000", close=date(2026, 5, 1), owner=rep)
    won(other, amount="7", closed_on=date(2025, 12, 3), owner=None, team=team)

    with django_assert_max_num_queries(4):  # rates, team members, won deals, open deals
        collected = collect(today=TODAY)

    scopes = collected.scopes
    assert Scope(ALL) in scopes and Scope(TEAM, team.pk) in scopes
    assert {Scope(OWNER, rep.pk) for rep in reps} <= set(scopes)
    assert {Scope(PIPELINE, pipeline.pk), Scope(PIPELINE, other.pk)} <= set(scopes)
    for scope in scopes:
        alone = won_series(scope, today=TODAY)
        assert collected.won[scope].months == alone.months, scope
        assert collected.won[scope].amounts == alone.amounts, scope
        assert (
            collected.pipeline.get(scope, None) is None
            or collected.pipeline[scope].amounts == weighted_pipeline(scope, today=TODAY).amounts
        )
