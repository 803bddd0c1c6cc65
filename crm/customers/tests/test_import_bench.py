"""The import benchmark measures what it says: a first import of new people, then the same file
again changing nothing, on a database that already holds contacts."""

from __future__ import annotations

import pytest

from crm.customers.io.importing import bench_import
from crm.customers.models import Company, Contact

pytestmark = pytest.mark.django_db


def test_each_run_imports_new_people_and_the_second_pass_changes_nothing():
    first = bench_import(50, tag="000010")
    assert first["first"]["created"] == 45 and first["first"]["updated"] == 5  # 1 row in 10 repeats another
    assert first["first"]["rejected"] == 0 and first["first"]["companies_created"] == 45
    assert first["second"]["unchanged"] == 50 and first["second"]["created"] == 0
    again = bench_import(50, tag="000100")  # the same database: its people are new to it
    assert again["first"]["created"] == 45 and again["second"]["unchanged"] == 50
    assert Contact.objects.count() == 90 and Company.objects.count() == 90
    assert first["first"]["rows_per_second"] > 0
    assert first["first"]["cpu_microseconds_per_row"]["python"] > 0  # a row costs this process time
