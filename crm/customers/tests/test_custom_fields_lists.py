"""Custom fields in the company and contact lists: columns, sorting (keyset pages through rows with
and without a value), filters shared by the page, the API and the export, and flat query counts."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from crm.accounts.tests.factories import TeamFactory
from crm.core.choices import JobStatus
from crm.core.testing import make_user
from crm.core.widgets import UserSelect
from crm.customers import services
from crm.customers.custom_fields import services as definitions
from crm.customers.filtersets import CompanyFilterSet, ContactFilterSet
from crm.customers.io.testing import finished_job, media_fixture
from crm.customers.models import Company, Contact

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

CONTACTS = reverse("customers:contact_list")
COMPANIES = reverse("customers:company_list")


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def fields(admin_user):
    def add(entity, key, kind, **kwargs):
        return definitions.custom_field_create(
            actor=admin_user, entity=entity, key=key, label=kwargs.pop("label", key.title()), kind=kind, **kwargs
        )

    return {
        "score": add("contact", "score", "number"),
        "since": add("contact", "since", "date", label="Customer since"),
        "vip": add("contact", "vip", "boolean", label="VIP"),
        "language": add("contact", "language", "choice", choices=["English", "中文", "Deutsch"]),
        "topics": add("contact", "topics", "multi_choice", choices=["Sales", "Support", '"Quoted"']),
        "nickname": add("contact", "nickname", "text"),
        "budget": add("company", "budget", "money"),
    }


def names(response) -> list[str]:
    return re.findall(r'class="fw-medium">([^<]+)</a>', response.content.decode())


def show_columns(client, url_name, columns):
    client.post(reverse(url_name), {"columns": columns})


def contact(owner, name, **custom):
    return Contact.objects.create(full_name=name, owner=owner, custom=custom)


# --- columns ------------------------------------------------------------------------------------------------


def test_custom_fields_are_columns_of_the_chooser_and_show_formatted_values(client, me, fields):
    contact(me, "Ada", score=1234.5, vip=True, topics=["Sales", "Support"], since="2026-03-31")
    contact(me, "Bob")
    client.force_login(me)
    page = client.get(CONTACTS).content.decode()
    assert 'name="columns" value="cf_score"' in page and 'name="columns" value="cf_vip"' in page
    assert "1,234.5" not in page  # not chosen yet
    show_columns(client, "customers:contact_columns", ["email", "cf_score", "cf_vip", "cf_topics", "cf_since", "bogus"])
    page = client.get(CONTACTS).content.decode()
    assert "1,234.5" in page and "Sales, Support" in page and ">Yes<" in page and "March 31, 2026" in page
    assert client.session["customers.columns.contact"] == ["email", "cf_score", "cf_since", "cf_vip", "cf_topics"]


def test_a_deactivated_field_leaves_the_columns_filters_and_sorts(client, me, fields, admin_user):
    contact(me, "Ada", score=3)
    client.force_login(me)
    show_columns(client, "customers:contact_columns", ["cf_score"])
    definitions.custom_field_set_active(actor=admin_user, field=fields["score"], active=False)
    response = client.get(CONTACTS, {"sort": "cf_score", "cf_score__min": "5"})
    assert response.context["columns"] == [] and response.context["sort"] == "name"
    assert "cf_score" not in {column.key for column, _shown in response.context["column_choices"]}
    assert "cf_score__min" not in response.context["filterset"].filters
    assert names(response) == ["Ada"]  # the filter is gone


# --- sorting ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("cf_score", ["Minus", "Small", "Big", "Big too", "Empty 1", "Empty 2"]),
        ("-cf_score", ["Big", "Big too", "Small", "Minus", "Empty 1", "Empty 2"]),
        ("cf_nickname", ["Big too", "Minus", "Small", "Big", "Empty 1", "Empty 2"]),
    ],
)
def test_sort_by_a_custom_field_puts_records_without_a_value_last(client, me, fields, sort, expected):
    contact(me, "Small", score=2.5, nickname="c")
    contact(me, "Big", score=100, nickname="d")
    contact(me, "Big too", score=100, nickname="a")
    contact(me, "Minus", score=-7, nickname="b")
    contact(me, "Empty 1")
    contact(me, "Empty 2")
    client.force_login(me)
    response = client.get(CONTACTS, {"sort": sort})
    if sort == "-cf_score":  # ties go by id, in the direction of the sort
        expected = ["Big too", "Big", "Small", "Minus", "Empty 2", "Empty 1"]
    assert names(response) == expected
    assert f'<option value="{sort}" selected>' in response.content.decode()


@pytest.mark.parametrize("sort", ["cf_score", "-cf_score", "cf_since", "-cf_since", "cf_vip", "-cf_language"])
def test_keyset_pages_sorted_by_a_custom_field_cover_every_row_once(client, me, fields, sort):
    for index in range(57):
        values = {}
        if index % 3:
            values["score"] = index % 7 * 1.5
            values["since"] = f"2026-01-{index % 5 + 1:02d}"
            values["vip"] = bool(index % 2)
            values["language"] = ["English", "中文", "Deutsch"][index % 3]
        contact(me, f"P{index:02d}", **values)
    client.force_login(me)
    seen: list[str] = []
    url = f"{CONTACTS}?sort={sort}"
    pages = 0
    while url and pages < 10:
        response = client.get(url)
        seen += names(response)
        pages += 1
        found = re.search(r'href="\?([^"]*after=[^"]+)"', response.content.decode())
        url = f"{CONTACTS}?{found.group(1).replace('&amp;', '&')}" if found else ""
    assert pages == 3 and len(seen) == 57 and len(set(seen)) == 57
    without = [f"P{index:02d}" for index in range(57) if not index % 3]
    assert seen[-len(without) :] == (without if not sort.startswith("-") else without[::-1])
    # And back: "newer" from the last page shows the page before it.
    found = re.search(r'href="\?([^"]*before=[^"]+)"', response.content.decode())
    assert names(client.get(f"{CONTACTS}?{found.group(1).replace('&amp;', '&')}")) == seen[25:50]


def test_a_broken_cursor_shows_the_first_page(client, me, fields):
    contact(me, "Ada", score=1)
    client.force_login(me)
    for cursor in ("not-base64!", "W10", "WyJ4IiwgMV0"):  # garbage, [], ["x", 1] for a number sort
        assert names(client.get(CONTACTS, {"sort": "cf_score", "after": cursor})) == ["Ada"]


def test_the_header_of_a_custom_column_sorts_and_reverses(client, me, fields):
    client.force_login(me)
    contact(me, "Ada", score=1)
    show_columns(client, "customers:contact_columns", ["cf_score"])
    page = client.get(CONTACTS).content.decode()
    assert 'href="/contacts/?sort=cf_score"' in page
    page = client.get(CONTACTS, {"sort": "cf_score"}).content.decode()
    assert 'href="/contacts/?sort=-cf_score"' in page and "ti-arrow-up" in page


# --- filters ------------------------------------------------------------------------------------------------


def test_filters_by_kind_on_the_list_page(client, me, fields):
    contact(
        me,
        "Ada",
        score=10,
        since="2026-01-10",
        vip=True,
        language="中文",
        topics=["Sales", '"Quoted"'],
        nickname="Countess",
    )
    contact(
        me, "Bob", score=50, since="2026-02-01", vip=False, language="English", topics=["Support"], nickname="bobby"
    )
    contact(me, "Cyd")
    client.force_login(me)
    assert names(client.get(CONTACTS, {"cf_score__min": "10", "cf_score__max": "20"})) == ["Ada"]
    assert names(client.get(CONTACTS, {"cf_since__min": "2026-01-15"})) == ["Bob"]
    assert names(client.get(CONTACTS, {"cf_vip": "false"})) == ["Bob"]
    assert names(client.get(CONTACTS, {"cf_language": "中文"})) == ["Ada"]
    assert names(client.get(CONTACTS, {"cf_topics": "Support"})) == ["Bob"]
    assert names(client.get(CONTACTS, {"cf_topics": '"Quoted"'})) == ["Ada"]
    assert names(client.get(CONTACTS, {"cf_nickname": "COUNT"})) == ["Ada"]
    page = client.get(CONTACTS, {"cf_score__min": "10"}).content.decode()
    assert 'name="cf_score__min"' in page and 'value="10"' in page  # in the "More" filters, open


def test_multi_choice_membership_matches_whole_choices_only(client, me, admin_user):
    definitions.custom_field_create(
        actor=admin_user, entity="contact", key="tags2", label="Tags", kind="multi_choice", choices=["A", "AB", "中"]
    )
    contact(me, "Ada", tags2=["AB"])
    contact(me, "Bob", tags2=["A", "中"])
    client.force_login(me)
    assert names(client.get(CONTACTS, {"cf_tags2": "A"})) == ["Bob"]
    assert names(client.get(CONTACTS, {"cf_tags2": "中"})) == ["Bob"]


def test_a_bad_filter_value_changes_nothing_and_is_marked(client, me, fields):
    contact(me, "Ada", score=1)
    client.force_login(me)
    response = client.get(CONTACTS, {"cf_score__min": "many", "cf_language": "Klingon"})
    assert names(response) == ["Ada"]


def test_owner_filters_use_the_user_picker_and_the_list_lists_no_users_for_it(client, me, fields):
    assert isinstance(ContactFilterSet().form.fields["owner"].widget, UserSelect)
    assert isinstance(CompanyFilterSet().form.fields["owner"].widget, UserSelect)
    client.force_login(me)
    response = client.get(CONTACTS)
    assert "owner_choices" not in response.context
    primary = {field.name: choices for field, choices in response.context["primary_filters"]}
    assert primary["owner"] is None and primary["lifecycle_stage"]
    assert 'name="owner"' in response.content.decode()


def test_companies_filter_and_sort_by_money(client, me, fields):
    for name, budget in (("Cheap", 10), ("Dear", 99999.99), ("Mid", 500.5), ("None", None)):
        Company.objects.create(name=name, owner=me, custom={} if budget is None else {"budget": budget})
    client.force_login(me)
    assert names(client.get(COMPANIES, {"sort": "-cf_budget"})) == ["Dear", "Mid", "Cheap", "None"]
    assert names(client.get(COMPANIES, {"cf_budget__min": "100"})) == ["Dear", "Mid"]
    show_columns(client, "customers:company_columns", ["cf_budget"])
    assert "99,999.99" in client.get(COMPANIES).content.decode()


# --- queries ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 40])
def test_custom_columns_sorts_and_filters_keep_the_list_queries_flat(
    client, roles, fields, rows, django_assert_max_num_queries
):
    from crm.customers.tests.test_query_counts import CONTACT_LIST_QUERIES

    member = make_user(module="customers", scope="team")
    TeamFactory(members=[member])
    for index in range(rows):
        contact(member, f"P{index}", score=index, language="English", topics=["Sales"], since="2026-01-01")
    client.force_login(member)
    show_columns(client, "customers:contact_columns", ["email", "cf_score", "cf_language", "cf_topics", "cf_since"])
    url = f"{CONTACTS}?sort=-cf_score&cf_language=English&cf_score__min=1"
    client.get(url)
    with django_assert_max_num_queries(CONTACT_LIST_QUERIES):
        response = client.get(url)
    assert len(names(response)) == min(rows - 1, 25)


# --- export -------------------------------------------------------------------------------------------------


def _export(client, capture, url_name, data):
    with capture(execute=True):
        response = client.post(reverse(url_name), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.result_file.open("rb") as handle:
        return handle.read()


def test_exports_have_custom_columns_are_filtered_by_them_and_are_formula_safe(
    client, me, fields, django_capture_on_commit_callbacks
):
    contact(
        me, "Ada", score=12.5, vip=True, topics=["Sales", "Support"], nickname='=HYPERLINK("x")', since="2026-03-31"
    )
    contact(me, "Bob", score=1)
    client.force_login(me)
    page = client.get(reverse("customers:contact_export"), {"cf_score__min": "10"}).content.decode()
    assert 'name="cf_score__min" value="10"' in page and "Score from" in page
    raw = _export(
        client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "csv", "cf_score__min": "10"}
    )
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, [row] = rows[0], rows[1:]
    cells = dict(zip(header, row, strict=True))
    assert cells["Score"] == "12.5" and cells["VIP"] == "Yes" and cells["Topics"] == "Sales; Support"
    assert cells["Nickname"] == '\'=HYPERLINK("x")' and cells["Customer since"] == "2026-03-31"
    raw = _export(client, django_capture_on_commit_callbacks, "customers:contact_export", {"format": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(raw)).active.iter_rows())
    header = [cell.value for cell in rows[0]]
    ada = next(row for row in rows[1:] if row[header.index("Full name")].value == "Ada")
    assert ada[header.index("Score")].value == 12.5
    nickname = ada[header.index("Nickname")]
    assert nickname.value == '=HYPERLINK("x")' and nickname.data_type == "s" and nickname.quotePrefix
    Company.objects.create(name="Acme", owner=me, custom={"budget": 1234.5})
    raw = _export(client, django_capture_on_commit_callbacks, "customers:company_export", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][-1] == "Budget" and rows[1][-1] == "1234.50"


def test_an_export_with_a_bad_custom_filter_is_refused(client, me, fields):
    client.force_login(me)
    response = client.post(reverse("customers:contact_export"), {"format": "csv", "cf_score__min": "many"})
    assert response.status_code == 400


def test_other_people_see_only_their_scope_through_custom_filters(client, me, fields, roles):
    other = make_user(module="customers", scope="own")
    contact(other, "Hidden", score=99)
    services.contact_create(actor=me, data={"first_name": "Mine", "custom": {"score": 99}})
    client.force_login(me)
    assert names(client.get(CONTACTS, {"cf_score__min": "50"})) == ["Mine"]
    assert names(client.get(CONTACTS, {"sort": "-cf_score"})) == ["Mine"]
