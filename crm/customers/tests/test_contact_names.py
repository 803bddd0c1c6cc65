"""A contact's name as lists show it: Chinese, Japanese and Korean names family name first without a
space (王 + 小明: 王小明), other names first name first; the same on the form, in an import, in a
vCard and for names stored before this rule."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from crm.core import selectors as core_selectors
from crm.core.choices import JobStatus
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.io.testing import csv_bytes, finished_job, start_import, upload
from crm.customers.models import Contact
from crm.customers.models.contacts import compose_contact_name

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("full", "first", "last", "name"),
    [
        ("", "小明", "王", "王小明"),
        ("", " 太郎 ", "山田", "山田太郎"),
        ("", "민준", "김", "김민준"),
        ("", "Ada", "Lovelace", "Ada Lovelace"),
        ("", "Xiaoming", "王", "Xiaoming 王"),  # mixed scripts: as written
        ("", "娜娜", "欧阳", "欧阳娜娜"),  # a family name of two characters
        ("", "太郎", "\U00020bb7田", "\U00020bb7田太郎"),  # 𠮷田: a character beyond the basic plane
        ("", "约翰", "史密斯", "约翰 史密斯"),  # a foreign name transliterated keeps its order
        ("", "ジョン", "スミス", "ジョン スミス"),  # so does one in katakana
        ("", "小明", "", "小明"),
        ("王小明", "Ignored", "Also", "王小明"),  # the single-field name wins
        ("", "", "", ""),
    ],
)
def test_compose_contact_name(full, first, last, name):
    assert compose_contact_name(full, first, last) == name


def test_a_chinese_contact_is_listed_and_found_by_the_name_as_written(roles):
    me = make_user(module="customers", scope="all")
    contact = services.contact_create(actor=me, data={"first_name": "小明", "last_name": "王"})
    assert Contact.objects.get(pk=contact.pk).name == "王小明"
    found = [
        result.title for _provider, results in core_selectors.search(user=me, query="王小明") for result in results
    ]
    assert found == ["王小明"]


def test_an_import_with_family_and_given_name_columns_names_the_contact_family_first(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    data = csv_bytes([["姓", "名", "邮箱"], ["王", "小明", "xiaoming@example.cn"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(data))
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 1
    assert Contact.objects.get().name == "王小明"
    assert "王小明" in admin_client.get(reverse("customers:contact_list"), {"q": "王小明"}).content.decode()


def test_names_stored_given_name_first_are_put_right_by_the_migration(roles):
    chinese = Contact.objects.create(first_name="小明", last_name="王")
    western = Contact.objects.create(first_name="Ada", last_name="Lovelace")
    Contact.objects.filter(pk=chinese.pk).update(name="小明 王")  # as the earlier rule stored it
    migration = importlib.import_module("crm.customers.migrations.0012_family_first_cjk_names")
    migration.rename(apps, None)
    assert Contact.objects.get(pk=chinese.pk).name == "王小明"
    assert Contact.objects.get(pk=western.pk).name == "Ada Lovelace"
    migration.rename_back(apps, None)
    assert Contact.objects.get(pk=chinese.pk).name == "小明 王"
    assert Contact.objects.get(pk=western.pk).name == "Ada Lovelace"


@pytest.mark.parametrize(("language", "first_field"), [("en", "first_name"), ("zh-hans", "last_name")])
def test_the_form_asks_for_the_family_name_first_in_chinese(client, roles, language, first_field):
    me = make_user(module="customers", scope="all")
    me.language = language
    me.save(update_fields=["language"])
    client.force_login(me)
    page = client.get(reverse("customers:contact_create")).content.decode()
    positions = {name: page.index(f'name="{name}"') for name in ("first_name", "last_name")}
    assert min(positions, key=positions.get) == first_field


@pytest.mark.parametrize("day", ["2099-01-01", "1899-12-31"])
def test_an_implausible_date_of_birth_is_refused_on_the_form_and_in_the_api(signed_in_admin, day):
    from crm.core.testing import api_client

    client, admin = signed_in_admin
    response = client.post(
        reverse("customers:contact_create"), {"first_name": "Ada", "lifecycle_stage": "lead", "date_of_birth": day}
    )
    assert response.status_code == 400 and "Enter a date of birth between 1900 and today." in response.content.decode()
    answer = api_client(admin).post("/api/v1/contacts/", {"first_name": "Ada", "date_of_birth": day}, format="json")
    assert answer.status_code == 400 and "date_of_birth" in answer.json()["errors"]
    assert not Contact.objects.exists()


@pytest.fixture
def signed_in_admin(client, roles):
    admin = make_user(module="customers", scope="all")
    client.force_login(admin)
    return client, admin


def test_a_contact_whose_stored_date_of_birth_predates_the_rule_can_still_be_edited(roles):
    import datetime as dt

    me = make_user(module="customers", scope="all")
    contact = Contact.objects.create(
        first_name="Ada", last_name="Lovelace", owner=me, date_of_birth=dt.date(1815, 12, 10)
    )
    services.contact_update(
        actor=me, contact=contact, data={"title": "Analyst", "date_of_birth": "1815-12-10"}, version=contact.version
    )
    contact.refresh_from_db()
    assert contact.title == "Analyst" and contact.date_of_birth == dt.date(1815, 12, 10)
