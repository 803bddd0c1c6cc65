"""vCard 3.0 export of one contact or a list, and vCard import; the files checked with vobject."""

from __future__ import annotations

import datetime as dt

import pytest
import vobject
from django.urls import reverse

from crm.core.choices import JobStatus
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.io.testing import finished_job, media_fixture, rejected_rows, upload
from crm.customers.io.vcards import contact_uid
from crm.customers.models import Contact

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()


@pytest.fixture
def user(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def ada(user):
    company = services.company_create(actor=user, data={"name": "Analytical Engines, Ltd."})
    return services.contact_create(
        actor=user,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "Countess; mathematician",
            "company": company,
            "date_of_birth": dt.date(1985, 12, 10),
            "street": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
            "emails": [{"email": "ada@example.com"}, {"email": "ada@home.example", "kind": "home"}],
            "phones": [
                {"number": "+44 20 7946 0018", "kind": "mobile"},
                {"number": "+44 20 7946 0019", "kind": "work"},
            ],
        },
    )


@pytest.fixture
def wang(user):
    return services.contact_create(
        actor=user, data={"full_name": "王芳", "emails": [{"email": "wang@example.cn"}], "title": "经理"}
    )


def _vcard_import(client, capture, data: bytes, name="cards.vcf", duplicates="skip"):
    with capture(execute=True):
        response = client.post(
            reverse("customers:contact_vcard_import"),
            {"file": upload(data, name, "text/vcard"), "duplicates": duplicates},
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    return finished_job(response)


def test_one_contact_as_vcard(client, user, ada):
    client.force_login(user)
    response = client.get(reverse("customers:contact_vcard", args=[ada.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/vcard")
    assert "Ada Lovelace.vcf" in response["Content-Disposition"]
    card = vobject.readOne(response.content.decode("utf-8"))
    assert card.version.value == "3.0"
    assert card.fn.value == "Ada Lovelace"
    assert (card.n.value.family, card.n.value.given) == ("Lovelace", "Ada")
    assert [e.value for e in card.email_list] == ["ada@example.com", "ada@home.example"]
    assert "PREF" in card.email_list[0].type_paramlist
    assert {t.value: t.type_paramlist[0] for t in card.tel_list} == {"+442079460018": "CELL", "+442079460019": "WORK"}
    assert card.org.value == ["Analytical Engines, Ltd."]
    assert card.title.value == "Countess; mathematician"
    assert (card.adr.value.street, card.adr.value.city, card.adr.value.code, card.adr.value.country) == (
        "12 St James's Square",
        "London",
        "SW1Y 4JH",
        "GB",
    )
    assert card.bday.value == "1985-12-10"
    assert card.uid.value == contact_uid(ada)


def test_someone_elses_contact_is_not_found(client, roles, ada):
    client.force_login(make_user(module="customers", scope="own"))
    assert client.get(reverse("customers:contact_vcard", args=[ada.pk])).status_code == 404


def test_list_export_as_vcards(client, user, ada, wang, django_capture_on_commit_callbacks, roles):
    services.contact_create(actor=make_user(module="customers", scope="own"), data={"full_name": "Not Yours"})
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:contact_vcard_export"), {"q": ""})
    job = finished_job(response)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result_file.name.endswith(".vcf")
    with job.result_file.open("rb") as handle:
        cards = list(vobject.readComponents(handle.read().decode("utf-8")))
    assert sorted(card.fn.value for card in cards) == ["Ada Lovelace", "王芳"]
    chinese = next(card for card in cards if card.fn.value == "王芳")
    assert (chinese.n.value.family, chinese.n.value.given) == ("", "")


def test_vcard_round_trip_changes_nothing(client, user, ada, wang, django_capture_on_commit_callbacks):
    from crm.core.models import JournalEntry

    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:contact_vcard_export"), {})
    with finished_job(response).result_file.open("rb") as handle:
        data = handle.read()
    before = JournalEntry.objects.count()
    snapshot = list(Contact.objects.order_by("pk").values())
    job = _vcard_import(client, django_capture_on_commit_callbacks, data, duplicates="update")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["unchanged"] == 2 and job.result["created"] == 0, job.result
    assert JournalEntry.objects.count() == before
    assert list(Contact.objects.order_by("pk").values()) == snapshot

    Contact.objects.all().delete()
    job = _vcard_import(client, django_capture_on_commit_callbacks, data)
    assert job.result["created"] == 2
    again = Contact.objects.get(email="ada@example.com")
    assert (again.first_name, again.last_name, again.full_name, again.title) == (
        "Ada",
        "Lovelace",
        "",
        "Countess; mathematician",
    )
    assert again.company.name == "Analytical Engines, Ltd." and str(again.date_of_birth) == "1985-12-10"
    assert sorted(again.phones.values_list("number", "kind")) == [
        ("+442079460018", "mobile"),
        ("+442079460019", "work"),
    ]
    assert Contact.objects.get(email="wang@example.cn").full_name == "王芳"


def test_vcard_4_and_several_cards_with_a_bad_one(client, user, django_capture_on_commit_callbacks):
    data = (
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\n"
        b"TEL;VALUE=uri;TYPE=cell:tel:+1-212-555-0100\r\nEMAIL;TYPE=work:grace@example.com\r\n"
        b"BDAY:--1209\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nEMAIL:noname@example.com\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alan Turing\r\nEMAIL:not-an-address\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Off\r\n"
    )
    client.force_login(user)
    job = _vcard_import(client, django_capture_on_commit_callbacks, data)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 1 and job.result["rejected"] == 3
    grace = Contact.objects.get(email="grace@example.com")
    assert grace.phone == "+12125550100" and grace.date_of_birth is None
    rows = rejected_rows(job)
    assert rows[0][:2] == ["Card", "Problems"]
    reasons = {row[0]: row[1] for row in rows[1:]}
    assert "no name" in reasons["2"] and "not a valid email" in reasons["3"] and "incomplete" in reasons["4"]


def test_a_file_that_is_not_vcard(client, user):
    client.force_login(user)
    for data in (b"Full name,Email\r\nAda,ada@example.com\r\n", b"\x89PNG\r\n\x1a\n" + bytes(300), b""):
        response = client.post(
            reverse("customers:contact_vcard_import"), {"file": upload(data, "x.vcf"), "duplicates": "skip"}
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "not a vCard" in page or "empty" in page


def test_gbk_encoded_vcard(client, user, django_capture_on_commit_callbacks):
    data = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李雷\r\nEMAIL:li@example.cn\r\nORG:华为\r\nEND:VCARD\r\n".encode("gbk")
    client.force_login(user)
    job = _vcard_import(client, django_capture_on_commit_callbacks, data)
    assert job.result["created"] == 1
    li = Contact.objects.get(email="li@example.cn")
    assert li.full_name == "李雷" and li.company.name == "华为"
