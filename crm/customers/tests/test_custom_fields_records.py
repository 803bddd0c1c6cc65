"""Custom field values on companies and contacts: through the services, the forms, the 360 pages and
the API, checked by type, with nothing written when a value is bad. Also the past companies of a
contact and the former contacts of a company on their pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.core.testing import api_client, journal_entries, make_user
from crm.customers import services
from crm.customers.custom_fields import services as definitions
from crm.customers.models import Company, Contact, PastCompany

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(admin_user):
    def add(entity, key, label, kind, **kwargs):
        return definitions.custom_field_create(
            actor=admin_user, entity=entity, key=key, label=label, kind=kind, **kwargs
        )

    return {
        "tier": add("company", "tier", "Tier", "choice", choices=["Gold", "Silver"], default="Silver"),
        "since": add("company", "since", "Customer since", "date"),
        "budget": add("company", "budget", "Budget", "money", required=True),
        "language": add("contact", "language", "Preferred language", "choice", choices=["English", "中文"]),
        "topics": add("contact", "topics", "Topics", "multi_choice", choices=["Sales", "Support", "Billing"]),
        "newsletter": add("contact", "newsletter", "Newsletter", "boolean", default=False),
        "linkedin": add("contact", "linkedin", "LinkedIn", "url"),
        "mobile2": add("contact", "mobile2", "Second phone", "phone"),
    }


@pytest.fixture
def rep(roles):
    return make_user(module="customers", scope="own")


# --- services ---------------------------------------------------------------------------------------------


def test_create_cleans_values_and_applies_defaults(rep, fields):
    company = services.company_create(actor=rep, data={"name": "Acme", "custom": {"budget": "1200.50"}})
    assert company.custom == {"tier": "Silver", "budget": 1200.5}
    contact = services.contact_create(
        actor=rep,
        data={"first_name": "Ada", "custom": {"topics": ["support", "Sales"], "mobile2": "+86 138 1234 5678"}},
    )
    contact.refresh_from_db()
    assert contact.custom == {"topics": ["Sales", "Support"], "mobile2": "+8613812345678", "newsletter": False}


def test_a_required_field_is_needed_on_create(rep, fields):
    with pytest.raises(ValidationError) as caught:
        services.company_create(actor=rep, data={"name": "Acme"})
    assert caught.value.message_dict == {"custom.budget": ["This field is required."]}
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("custom", "key", "message"),
    [
        ({"budget": "a lot"}, "custom.budget", "is not a number"),
        ({"budget": 1, "tier": "Platinum"}, "custom.tier", "not one of the choices"),
        ({"budget": 1, "since": "yesterday"}, "custom.since", "not a date"),
        ({"budget": 1, "shoe_size": 38}, "custom.shoe_size", "no custom field"),
    ],
)
def test_a_bad_value_is_a_field_error_and_nothing_is_written(rep, fields, custom, key, message):
    company = services.company_create(actor=rep, data={"name": "Acme", "custom": {"budget": 5}})
    before = (company.version, dict(company.custom), journal_entries(company).count())
    with pytest.raises(ValidationError) as caught:
        services.company_update(
            actor=rep, company=Company.objects.get(), data={"custom": custom}, version=company.version
        )
    assert message in " ".join(caught.value.message_dict[key])
    company = Company.objects.get()
    assert (company.version, company.custom, journal_entries(company).count()) == before


def test_custom_values_must_be_an_object(rep, fields):
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=rep, data={"first_name": "Ada", "custom": "newsletter"})
    assert "custom" in caught.value.message_dict
    assert not Contact.objects.exists()


def test_update_merges_keeps_inactive_values_and_journals_the_change(rep, fields, admin_user):
    contact = services.contact_create(
        actor=rep, data={"first_name": "Ada", "custom": {"language": "English", "linkedin": "linkedin.com/in/ada"}}
    )
    definitions.custom_field_set_active(actor=admin_user, field=fields["linkedin"], active=False)
    contact = Contact.objects.get()
    services.contact_update(actor=rep, contact=contact, data={"custom": {"language": "中文"}}, version=contact.version)
    contact.refresh_from_db()
    assert contact.custom == {
        "language": "中文",
        "linkedin": "https://linkedin.com/in/ada",  # hidden, kept
        "newsletter": False,
    }
    change = journal_entries(contact).last().changes
    assert "custom" in change
    with pytest.raises(ValidationError) as caught:  # an inactive field cannot be written
        services.contact_update(
            actor=rep, contact=contact, data={"custom": {"linkedin": "x.com"}}, version=contact.version
        )
    assert "custom.linkedin" in caught.value.message_dict


def test_an_unchanged_custom_value_writes_nothing_to_the_journal(rep, fields):
    contact = services.contact_create(actor=rep, data={"first_name": "Ada", "custom": {"language": "English"}})
    before = journal_entries(contact).count()
    services.contact_update(
        actor=rep, contact=contact, data={"custom": {"language": "english"}}, version=contact.version
    )
    assert journal_entries(contact).count() == before


# --- forms and pages -------------------------------------------------------------------------------------------


def contact_form_data(**extra):
    data = {
        "first_name": "Ada",
        "lifecycle_stage": "lead",
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_the_contact_form_shows_each_field_with_its_widget_default_and_help(client, rep, fields):
    fields["language"].help_text = "Write to them in it."
    fields["language"].save()
    client.force_login(rep)
    page = client.get(reverse("customers:contact_create")).content.decode()
    assert 'data-testid="custom-fields"' in page and "More details" in page
    assert '<select name="cf_language"' in page and "Write to them in it." in page
    assert 'type="checkbox" name="cf_topics" value="Billing"' in page
    assert '<option value="false" selected>No</option>' in page  # the default of a new record
    assert 'type="url" name="cf_linkedin"' in page and 'type="tel" name="cf_mobile2"' in page


def test_create_and_edit_a_contact_with_custom_fields(client, rep, fields):
    client.force_login(rep)
    response = client.post(
        reverse("customers:contact_create"),
        contact_form_data(
            cf_language="中文", cf_topics=["Billing", "Sales"], cf_newsletter="true", cf_mobile2="+86 138 1234 5678"
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    contact = Contact.objects.get()
    assert contact.custom == {
        "language": "中文",
        "topics": ["Sales", "Billing"],
        "newsletter": True,
        "mobile2": "+8613812345678",
    }
    page = client.get(reverse("customers:contact_edit", args=[contact.pk])).content.decode()
    assert '<option value="中文" selected>' in page and '<option value="true" selected>' in page
    response = client.post(
        reverse("customers:contact_edit", args=[contact.pk]),
        contact_form_data(version=contact.version, cf_language="", cf_topics=["Support"], cf_newsletter="true"),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert "language" not in contact.custom and contact.custom["topics"] == ["Support"]
    assert contact.custom["mobile2"] == "+8613812345678"  # not sent at all (a script): left alone
    client.post(
        reverse("customers:contact_edit", args=[contact.pk]),
        contact_form_data(version=contact.version, cf_topics=["Support"], cf_mobile2=""),
    )
    contact.refresh_from_db()
    assert "mobile2" not in contact.custom and contact.custom["newsletter"] is True


def test_a_bad_value_in_the_form_shows_next_to_its_field_and_nothing_is_written(client, rep, fields):
    client.force_login(rep)
    response = client.post(
        reverse("customers:contact_create"), contact_form_data(cf_linkedin="javascript:alert(1)", cf_mobile2="12")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a web address" in page and "is not a valid phone number" in page
    assert "Nothing was saved yet" in page
    assert not Contact.objects.exists()


def test_a_required_field_in_the_company_form(client, rep, fields):
    client.force_login(rep)
    page = client.get(reverse("customers:company_create")).content.decode()
    assert '<option value="Silver" selected>' in page  # the default
    response = client.post(reverse("customers:company_create"), {"name": "Acme", "cf_tier": "Gold"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = client.post(
        reverse("customers:company_create"), {"name": "Acme", "cf_tier": "Gold", "cf_budget": "99.5"}
    )
    assert response.status_code == 302
    assert Company.objects.get().custom == {"tier": "Gold", "budget": 99.5}


def test_a_service_error_about_a_custom_field_lands_next_to_it(client, rep, fields, admin_user, monkeypatch):
    from crm.customers.custom_fields import forms as custom_forms

    client.force_login(rep)
    # The field's check passes in the form, then the definition changes before the service runs.
    original = custom_forms.CustomValueField.clean
    monkeypatch.setattr(custom_forms.CustomValueField, "clean", lambda self, value: value or None)
    response = client.post(reverse("customers:company_create"), {"name": "Acme", "cf_budget": "lots"})
    monkeypatch.setattr(custom_forms.CustomValueField, "clean", original)
    assert response.status_code == 400
    page = response.content.decode()
    assert "“lots” is not a number." in page
    assert page.index("“lots” is not a number.") > page.index('name="cf_budget"')
    assert not Company.objects.exists()


def test_the_360_pages_show_values_formatted_per_kind(client, rep, fields):
    company = services.company_create(
        actor=rep, data={"name": "Acme", "custom": {"budget": "1234567.5", "since": "2020-02-29"}}
    )
    contact = services.contact_create(
        actor=rep,
        data={
            "first_name": "Ada",
            "company": company,
            "custom": {"topics": ["Sales", "Billing"], "linkedin": "https://linkedin.com/in/ada", "newsletter": True},
        },
    )
    client.force_login(rep)
    page = client.get(company.get_absolute_url()).content.decode()
    assert "Budget" in page and "1,234,567.50" in page and "Feb. 29, 2020" in page and "Silver" in page
    page = client.get(contact.get_absolute_url()).content.decode()
    assert (
        "Sales, Billing" in page
        and 'href="https://linkedin.com/in/ada" class="text-break" rel="noopener noreferrer"' in page
    )
    assert "Newsletter" in page and ">Yes<" in page


def test_inactive_fields_are_hidden_everywhere(client, rep, fields, admin_user):
    contact = services.contact_create(actor=rep, data={"first_name": "Ada", "custom": {"language": "English"}})
    definitions.custom_field_set_active(actor=admin_user, field=fields["language"], active=False)
    client.force_login(rep)
    assert "Preferred language" not in client.get(contact.get_absolute_url()).content.decode()
    assert "cf_language" not in client.get(reverse("customers:contact_edit", args=[contact.pk])).content.decode()
    body = api_client(rep).get(reverse("customers-api:contact-detail", args=[contact.pk])).json()
    assert body["custom"] == {"newsletter": False}
    assert Contact.objects.get().custom["language"] == "English"


def test_past_companies_and_former_contacts_are_shown_within_the_scope(client, rep, roles):
    other = make_user(module="customers", scope="own")
    old, hidden, new = (
        Company.objects.create(name="Old Works", owner=rep),
        Company.objects.create(name="Secret Works", owner=other),
        Company.objects.create(name="New Works", owner=rep),
    )
    ada = services.contact_create(actor=rep, data={"first_name": "Ada", "title": "CTO", "company": old})
    services.contact_update(actor=rep, contact=ada, data={"company": new, "title": "CEO"}, version=ada.version)
    ada.refresh_from_db()
    PastCompany.objects.create(contact=ada, company=hidden, title="Intern")
    client.force_login(rep)
    page = client.get(ada.get_absolute_url()).content.decode()
    assert 'data-testid="past-companies"' in page and "Old Works" in page and "CTO" in page
    assert "Secret Works" not in page
    page = client.get(old.get_absolute_url()).content.decode()
    assert 'data-testid="former-contacts"' in page and "Ada" in page
    bob = Contact.objects.create(first_name="Bartholomew Hidden-Former", owner=other)
    PastCompany.objects.create(contact=bob, company=old)
    page = client.get(old.get_absolute_url()).content.decode()
    # A former contact the user may not see (a long name: a short one can turn up in a random token).
    assert "Bartholomew Hidden-Former" not in page


# --- API --------------------------------------------------------------------------------------------------------


def test_the_api_reads_and_writes_custom_values(rep, fields):
    api = api_client(rep)
    response = api.post(
        reverse("customers-api:contact-list"),
        {"first_name": "Ada", "custom": {"language": "English", "topics": ["Support"]}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["custom"] == {"language": "English", "topics": ["Support"], "newsletter": False}
    url = reverse("customers-api:contact-detail", args=[body["id"]])
    response = api.patch(
        url, {"custom": {"language": None, "newsletter": True}, "version": body["version"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["custom"] == {"topics": ["Support"], "newsletter": True}


def test_api_errors_are_keyed_by_custom_field_and_nothing_is_written(rep, fields):
    api = api_client(rep)
    response = api.post(
        reverse("customers-api:company-list"),
        {"name": "Acme", "custom": {"budget": "many", "tier": "Platinum", "unknown": 1}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"custom.budget", "custom.tier", "custom.unknown"}
    assert "is not a number" in errors["custom.budget"][0]
    response = api.post(reverse("customers-api:company-list"), {"name": "Acme", "custom": [1, 2]}, format="json")
    assert response.status_code == 400 and "custom" in response.json()["errors"]
    assert not Company.objects.exists()


def test_the_api_filters_lists_by_custom_fields(rep, fields):
    api = api_client(rep)
    for name, budget, tier in (("A", 10, "Gold"), ("B", 500, "Silver"), ("C", 90, "Gold")):
        services.company_create(actor=rep, data={"name": name, "custom": {"budget": budget, "tier": tier}})
    url = reverse("customers-api:company-list")
    names = [row["name"] for row in api.get(url, {"cf_tier": "Gold", "cf_budget__min": "50"}).json()["results"]]
    assert names == ["C"]
    response = api.get(url, {"cf_budget__max": "lots"})
    assert response.status_code == 400 and "cf_budget__max" in response.json()["errors"]
    response = api.get(url, {"cf_tier": "Platinum"})
    assert response.status_code == 400


def test_schema_describes_custom_values_as_an_object():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    custom = schema["components"]["schemas"]["Contact"]["properties"]["custom"]
    assert custom["type"] == "object" and "custom.<key>" in custom["description"]
    assert any("custom-fields" in path for path in schema["paths"])


def test_the_history_shows_each_changed_custom_field_by_its_label(client, rep, fields):
    from crm.core import journal_display

    contact = services.contact_create(
        actor=rep, data={"first_name": "Ada", "custom": {"language": "English", "mobile2": "+44 20 7946 0958"}}
    )
    services.contact_update(
        actor=rep, contact=contact, data={"custom": {"language": "中文", "topics": ["Sales", "Billing"]}}, version=1
    )
    update = journal_display.describe([journal_entries(contact).filter(action="update").get()])[0]
    assert [(row.label, row.old, row.new) for row in update.rows] == [
        ("Preferred language", "English", "中文"),
        ("Topics", "—", "Sales, Billing"),
    ]
    create = journal_display.describe([journal_entries(contact).filter(action="create").get()])[0]
    rows = {row.label: row.new for row in create.rows}
    assert rows["Second phone"] == "+44 20 7946 0958" and rows["Newsletter"] == "No"
    client.force_login(rep)
    page = client.get(contact.get_absolute_url()).content.decode()
    assert "Preferred language" in page and '{"language"' not in page and "&quot;language&quot;" not in page


def test_a_sensitive_field_change_shows_in_the_history_as_masks_to_those_who_may_not_see_it(client, rep, admin_user):
    from crm.core.crypto import masking

    definitions.custom_field_create(
        actor=admin_user, entity="contact", key="salary", label="Salary", kind="number", sensitive=True
    )
    contact = services.contact_create(actor=rep, data={"first_name": "Ada", "custom": {"salary": 100}})
    services.contact_update(actor=rep, contact=contact, data={"custom": {"salary": 200}}, version=1)
    client.force_login(make_user(module="customers", actions=("view",), sensitive=False))
    page = client.get(contact.get_absolute_url()).content.decode()
    history = page[page.index("Updated") :]
    assert "Salary" in history and masking.MASK in history and ">200<" not in page and ">100<" not in page
    update = journal_entries(contact).filter(action="update").get()
    assert "salary" in update.changes["custom"][1]  # the change is there, sealed
