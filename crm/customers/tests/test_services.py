"""The write rules of companies and contacts (crm/customers/services.py), which hold for pages and
API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.core.exceptions import ConflictError
from crm.core.testing import api_client, make_user
from crm.customers import services
from crm.customers.models import Company, Contact, ContactEmail, ContactPhone

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(roles):
    return make_user(module="customers")


# --- contacts: phones and emails -------------------------------------------------------------------


def test_phones_are_stored_in_e164_whatever_their_format(writer, settings):
    settings.CRM_PHONE_REGION = "US"
    contact = services.contact_create(
        actor=writer,
        data={
            "first_name": "Ada",
            "phones": [{"number": "(212) 555-0100"}, {"number": "+86 138-1234-5678", "kind": "work"}],
        },
    )
    numbers = list(contact.phones.values_list("number", "kind", "is_primary"))
    assert numbers == [("+12125550100", "mobile", True), ("+8613812345678", "work", False)]
    contact.refresh_from_db()
    assert contact.phone == "+12125550100"


def test_the_same_number_in_two_formats_is_kept_once(writer):
    contact = services.contact_create(
        actor=writer, data={"first_name": "Ada", "phones": [{"number": "+1 212 555 0100"}, {"number": "+12125550100"}]}
    )
    assert contact.phones.count() == 1


def test_an_invalid_phone_number_is_refused_and_nothing_is_written(writer):
    before = (Contact.objects.count(), ContactEmail.objects.count())
    with pytest.raises(ValidationError) as caught:
        services.contact_create(
            actor=writer,
            data={"first_name": "Ada", "emails": [{"email": "ada@example.com"}], "phones": [{"number": "12"}]},
        )
    assert "phones" in caught.value.message_dict
    assert (Contact.objects.count(), ContactEmail.objects.count()) == before


def test_duplicate_emails_collapse_case_insensitively(writer):
    contact = services.contact_create(
        actor=writer,
        data={
            "first_name": "Ada",
            "emails": [{"email": "Ada@Example.com"}, {"email": "ada@example.com "}, {"email": "ada@home.example"}],
        },
    )
    assert list(contact.emails.values_list("email", flat=True)) == ["ada@example.com", "ada@home.example"]


def test_an_invalid_email_is_refused(writer):
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=writer, data={"first_name": "Ada", "emails": [{"email": "not-an-address"}]})
    assert "emails" in caught.value.message_dict
    assert not Contact.objects.exists()


def test_the_first_address_is_primary_unless_another_says_so(writer):
    contact = services.contact_create(
        actor=writer, data={"first_name": "Ada", "emails": [{"email": "a@example.com"}, {"email": "b@example.com"}]}
    )
    assert contact.email == "a@example.com"
    assert list(contact.emails.values_list("email", "is_primary")) == [
        ("a@example.com", True),
        ("b@example.com", False),
    ]

    contact = services.contact_update(
        actor=writer,
        contact=contact,
        data={
            "emails": [
                {"email": "a@example.com"},
                {"email": "b@example.com", "is_primary": True},
                {"email": "c@example.com", "is_primary": True},
            ]
        },
        version=contact.version,
    )
    contact.refresh_from_db()
    assert contact.email == "b@example.com"
    assert list(ContactEmail.objects.filter(contact=contact, is_primary=True).values_list("email", flat=True)) == [
        "b@example.com"
    ]


def test_a_new_contacts_primary_address_and_number_are_the_ones_marked(writer):
    contact = services.contact_create(
        actor=writer,
        data={
            "first_name": "Ada",
            "emails": [{"email": "work@example.com"}, {"email": "home@example.com", "is_primary": True}],
            "phones": [{"number": "+12125550100"}, {"number": "+12125550199", "is_primary": True}],
        },
    )
    contact.refresh_from_db()
    assert contact.email == "home@example.com" and contact.phone == "+12125550199"


def test_an_update_without_emails_or_phones_keeps_them(writer):
    contact = services.contact_create(
        actor=writer,
        data={"first_name": "Ada", "emails": [{"email": "a@example.com"}], "phones": [{"number": "+12125550100"}]},
    )
    services.contact_update(actor=writer, contact=contact, data={"title": "CTO"}, version=contact.version)
    assert contact.emails.count() == 1 and ContactPhone.objects.filter(contact=contact).count() == 1
    contact.refresh_from_db()
    assert contact.title == "CTO" and contact.email == "a@example.com"


def test_a_contact_needs_a_name(writer):
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=writer, data={"title": "CTO"})
    assert "first_name" in caught.value.message_dict


def test_a_full_name_overrides_first_and_last_name(writer):
    contact = services.contact_create(
        actor=writer, data={"first_name": "Fang", "last_name": "Wang", "full_name": "王芳"}
    )
    assert contact.name == "王芳"


def test_a_stale_version_is_a_conflict(writer):
    contact = services.contact_create(actor=writer, data={"first_name": "Ada"})
    services.contact_update(actor=writer, contact=contact, data={"title": "CTO"}, version=contact.version)
    stale = Contact.objects.get(pk=contact.pk)
    with pytest.raises(ConflictError):
        services.contact_update(actor=writer, contact=stale, data={"title": "CEO"}, version=stale.version - 1)


def test_writing_needs_the_module_permission(roles):
    reader = make_user(module="customers", actions=("view",))
    with pytest.raises(PermissionDenied):
        services.contact_create(actor=reader, data={"first_name": "Ada"})
    with pytest.raises(PermissionDenied):
        services.company_create(actor=reader, data={"name": "Acme"})


# --- linking to records the actor cannot see --------------------------------------------------------


def test_a_hidden_company_cannot_be_linked_to_a_contact(roles):
    me = make_user(module="customers", scope="own")
    other = make_user(module="customers", scope="own")
    hidden = Company.objects.create(name="Hidden Ltd", owner=other)
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=me, data={"first_name": "Ada", "company": hidden})
    assert "company" in caught.value.message_dict
    assert not Contact.objects.filter(company=hidden).exists()

    mine = services.contact_create(actor=me, data={"first_name": "Ada"})
    with pytest.raises(ValidationError):
        services.contact_update(actor=me, contact=mine, data={"company": hidden}, version=mine.version)
    mine.refresh_from_db()
    assert mine.company_id is None


def test_a_hidden_company_cannot_become_a_parent(roles):
    me = make_user(module="customers", scope="own")
    other = make_user(module="customers", scope="own")
    hidden = Company.objects.create(name="Hidden Holding", owner=other)
    with pytest.raises(ValidationError) as caught:
        services.company_create(actor=me, data={"name": "Acme", "parent": hidden})
    assert "parent" in caught.value.message_dict


# --- companies ---------------------------------------------------------------------------------------


def test_the_domain_is_derived_from_the_website(writer):
    company = services.company_create(actor=writer, data={"name": "Acme", "website": "https://www.Acme.example/about"})
    assert company.domain == "acme.example"
    company = services.company_create(
        actor=writer, data={"name": "Beta", "website": "https://beta.example", "domain": "Beta-Group.example"}
    )
    assert company.domain == "beta-group.example"


def test_a_parent_cycle_is_refused(writer):
    holding = services.company_create(actor=writer, data={"name": "Holding"})
    daughter = services.company_create(actor=writer, data={"name": "Daughter", "parent": holding})
    granddaughter = services.company_create(actor=writer, data={"name": "Granddaughter", "parent": daughter})
    with pytest.raises(ValidationError) as caught:
        services.company_update(actor=writer, company=holding, data={"parent": granddaughter}, version=holding.version)
    assert "parent" in caught.value.message_dict
    holding.refresh_from_db()
    assert holding.parent_id is None

    with pytest.raises(ValidationError):
        services.company_update(actor=writer, company=daughter, data={"parent": daughter}, version=daughter.version)


def test_a_company_with_contacts_is_not_deleted(writer):
    company = services.company_create(actor=writer, data={"name": "Acme"})
    services.contact_create(actor=writer, data={"first_name": "Ada", "company": company})
    with pytest.raises(ValidationError):
        services.company_delete(actor=writer, company=company)
    assert Company.objects.filter(pk=company.pk).exists()


def test_a_new_record_belongs_to_its_creator(writer):
    company = services.company_create(actor=writer, data={"name": "Acme"})
    contact = services.contact_create(actor=writer, data={"first_name": "Ada"})
    assert company.owner == writer and contact.owner == writer


# --- a bad email or phone on update ------------------------------------------------------------------


def channels():
    """The stored addresses and numbers of every contact, with the contact's copies of the primary ones."""
    return {
        "emails": sorted(ContactEmail.objects.values_list("pk", "contact_id", "email", "kind", "is_primary")),
        "phones": sorted(ContactPhone.objects.values_list("pk", "contact_id", "number", "kind", "is_primary")),
        "contacts": sorted(Contact.objects.values_list("pk", "email", "phone", "version")),
    }


@pytest.fixture
def ada(writer):
    return services.contact_create(
        actor=writer,
        data={
            "first_name": "Ada",
            "emails": [{"email": "ada@example.com"}, {"email": "ada@home.example", "kind": "home"}],
            "phones": [{"number": "+12125550100"}, {"number": "+8613812345678", "kind": "work"}],
        },
    )


BAD_CHANNELS = [
    pytest.param("emails", {"emails": [{"email": "new@example.com"}, {"email": "not-an-address"}]}, id="email"),
    pytest.param("phones", {"phones": [{"number": "+12125550199"}, {"number": "12"}]}, id="phone"),
    pytest.param(
        "phones",
        {"emails": [{"email": "new@example.com"}], "phones": [{"number": "call me"}]},
        id="good-email-bad-phone",
    ),
]


@pytest.mark.parametrize(("field", "data"), BAD_CHANNELS)
def test_an_invalid_email_or_phone_on_update_changes_nothing(writer, ada, field, data):
    before = channels()
    with pytest.raises(ValidationError) as caught:
        services.contact_update(actor=writer, contact=ada, data={"title": "CTO", **data}, version=ada.version)
    assert field in caught.value.message_dict
    assert channels() == before
    ada.refresh_from_db()
    assert ada.title == ""
    # The same update with valid values does change them: the snapshot would see a partial write.
    services.contact_update(
        actor=writer,
        contact=ada,
        data={"emails": [{"email": "new@example.com"}], "phones": [{"number": "+12125550199"}]},
        version=ada.version,
    )
    assert channels() != before


@pytest.mark.parametrize(("field", "data"), BAD_CHANNELS)
def test_the_contact_api_refuses_a_bad_email_or_phone_on_patch_and_keeps_the_stored_ones(writer, ada, field, data):
    before = channels()
    response = api_client(writer).patch(
        f"/api/v1/contacts/{ada.pk}/", {"title": "CTO", **data, "version": ada.version}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert channels() == before
    ada.refresh_from_db()
    assert ada.title == ""
