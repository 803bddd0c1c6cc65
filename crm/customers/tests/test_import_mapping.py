"""Guessing each column's field from its header (English and Chinese), and the mapping page's preview."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from crm.customers import services
from crm.customers.io.exporting import contact_header
from crm.customers.io.mapping import guess_mapping, mapping_problems
from crm.customers.io.testing import csv_bytes, media_fixture, upload

pytestmark = pytest.mark.django_db  # custom fields are targets too: the mapping reads their definitions
isolated_media = media_fixture()


def test_english_headers_in_their_usual_spellings():
    headers = [
        "First Name",
        "last_name",
        "E-mail Address",
        "Mobile Phone",
        "Work phone",
        "Company Name",
        "Job Title",
        "City",
        "Country",
        "Lead Source",
        "Lifecycle stage",
        "Date of birth",
        "ZIP code",
        "State",
        "Street address",
        "Favourite colour",
    ]
    assert guess_mapping(headers) == [
        "first_name",
        "last_name",
        "email",
        "mobile",
        "phone",
        "company",
        "title",
        "city",
        "country",
        "source",
        "lifecycle_stage",
        "date_of_birth",
        "postal_code",
        "region",
        "street",
        "",
    ]


def test_chinese_headers():
    headers = [
        "姓名",
        "名",
        "姓",
        "邮箱",
        "手机",
        "电话",
        "公司",
        "职位",
        "城市",
        "国家",
        "来源",
        "生命周期阶段",
        "备注",
    ]
    assert guess_mapping(headers) == [
        "full_name",
        "first_name",
        "last_name",
        "email",
        "mobile",
        "phone",
        "company",
        "title",
        "city",
        "country",
        "source",
        "lifecycle_stage",
        "",
    ]
    assert guess_mapping(["电子邮件", "手机号码", "公司名称", "职务", "邮政编码", "省份", "出生日期", "地址"]) == [
        "email",
        "mobile",
        "company",
        "title",
        "postal_code",
        "region",
        "date_of_birth",
        "street",
    ]
    assert guess_mapping(["联系人（必填）", "邮箱 *", "电话号码："])[1:] == ["email", "phone"]


def test_first_and_last_alone_name_the_name_columns():
    assert guess_mapping(["First", "Last", "Email"]) == ["first_name", "last_name", "email"]


def test_a_field_is_guessed_for_its_first_column_only():
    assert guess_mapping(["Email", "E-mail", "Name"]) == ["email", "", "full_name"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_export_header_maps_back_in_each_language(language):
    with translation.override(language):
        header = contact_header()
        mapping = guess_mapping(header)
    named = dict(zip(header, mapping, strict=True))
    assert [key for key in mapping if key] == [
        "first_name",
        "last_name",
        "full_name",
        "email",
        "email_other",
        "mobile",
        "phone",
        "phone_other",
        "title",
        "company",
        "lifecycle_stage",
        "source",
        "date_of_birth",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
    ], named


def test_mapping_problems():
    assert mapping_problems(["email", "city"]) == ["Map a column to the full name, or to the first or last name."]
    assert "Two columns" in mapping_problems(["full_name", "email", "email"])[0]
    assert mapping_problems(["first_name", "", "email"]) == []


@pytest.mark.django_db
def test_mapping_page_guesses_and_previews_each_rows_problems(admin_client, admin_user):
    services.contact_create(
        actor=admin_user, data={"full_name": "Existing Person", "emails": [{"email": "dup@example.com"}]}
    )
    rows = [
        ["姓名", "邮箱", "手机", "备注"],
        ["王芳", "wang@example.cn", "+86 138 1234 5678", "VIP"],
        ["李雷", "not-an-email", "", ""],
        ["Dup Licate", "dup@example.com", "", ""],
    ]
    response = admin_client.post(
        reverse("customers:contact_import"), {"file": upload(csv_bytes(rows)), "has_header": "on"}
    )
    assert response.status_code == 302
    map_url = response["Location"]
    page = admin_client.get(map_url)
    assert page.status_code == 200
    form = page.context["form"]
    assert [form[f"col_{i}"].value() for i in range(4)] == ["full_name", "email", "mobile", ""]
    html = page.content.decode()
    assert "not a valid email address" in html and "Rejected" in html
    assert "Same email address as Existing Person" in html
    assert "Good rows are imported, bad rows are rejected." in html  # the policy is stated

    token = map_url.rstrip("/").split("/")[-1]
    fragment = admin_client.post(
        reverse("customers:contact_import_preview", args=[token]),
        {"col_0": "", "col_1": "email", "col_2": "mobile", "col_3": "", "duplicates": "skip"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in fragment and "Map a column to the full name" in fragment
    # The start button comes along out of band, disabled while no column holds the name.
    start = re.search(r'<span id="start-import" hx-swap-oob="true">.*?</button>', fragment, re.S)
    assert start is not None and " disabled" in start.group(0)
    assert re.search(r'data-testid="start-import"(?! disabled)', html)  # the guessed mapping is usable
    fixed = admin_client.post(
        reverse("customers:contact_import_preview", args=[token]),
        {"col_0": "full_name", "col_1": "email", "col_2": "mobile", "col_3": "", "duplicates": "skip"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert re.search(r'hx-swap-oob="true">\s*<button[^>]*data-testid="start-import">', fixed)


@pytest.mark.django_db
def test_drafts_belong_to_their_session(admin_client, client, roles):
    from crm.core.testing import make_user

    response = admin_client.post(
        reverse("customers:contact_import"), {"file": upload(csv_bytes([["Name"], ["Ada"]])), "has_header": "on"}
    )
    client.force_login(make_user(module="customers"))
    assert client.get(response["Location"]).status_code == 404
