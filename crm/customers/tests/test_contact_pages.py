"""Contact pages as a user meets them: the list (filters, sort, pages, columns, empty states), the
360 page with the panels other modules register, and the form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.registry import RecordPanel, platform
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.models import Company, Contact, ContactEmail, ContactPhone, CustomField, Tag

pytestmark = pytest.mark.django_db

LIST = reverse("customers:contact_list")
CREATE = reverse("customers:contact_create")


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


def row_names(response) -> list[str]:
    """Contact names in the list's rows, in order."""
    return re.findall(r'class="fw-medium">([^<]+)</a>', response.content.decode())


def headers(response) -> list[str]:
    """The optional columns the list shows."""
    return re.findall(r'<th class="crm-col-([a-z_]+)"', response.content.decode())


def rows_sent(*, emails=(), phones=(), initial_emails=0, initial_phones=0) -> dict[str, str]:
    data = {
        "emails-TOTAL_FORMS": str(len(emails)),
        "emails-INITIAL_FORMS": str(initial_emails),
        "phones-TOTAL_FORMS": str(len(phones)),
        "phones-INITIAL_FORMS": str(initial_phones),
    }
    for index, (address, kind, primary) in enumerate(emails):
        data.update({f"emails-{index}-email": address, f"emails-{index}-kind": kind})
        if primary:
            data[f"emails-{index}-is_primary"] = "on"
    for index, (number, kind, primary) in enumerate(phones):
        data.update({f"phones-{index}-number": number, f"phones-{index}-kind": kind})
        if primary:
            data[f"phones-{index}-is_primary"] = "on"
    return data


# --- list --------------------------------------------------------------------------------------------


def test_list_shows_only_the_contacts_in_scope(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    Contact.objects.create(first_name="Mine", owner=me)
    Contact.objects.create(first_name="Theirs", owner=other)
    response = signed_in.get(LIST)
    assert response.status_code == 200
    assert row_names(response) == ["Mine"]
    assert "1 contact" in response.content.decode()


def test_filters_narrow_the_list_and_htmx_gets_just_the_rows(signed_in, me):
    Contact.objects.create(first_name="Ada", owner=me, lifecycle_stage="customer")
    Contact.objects.create(first_name="Grace", owner=me, lifecycle_stage="lead")
    Contact.objects.create(first_name="Adam", owner=me, lifecycle_stage="lead")

    assert row_names(signed_in.get(LIST, {"lifecycle_stage": "lead"})) == ["Adam", "Grace"]
    assert row_names(signed_in.get(LIST, {"q": "ada"})) == ["Ada", "Adam"]

    fragment = signed_in.get(LIST, {"q": "ada", "lifecycle_stage": "lead"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body and "crm-filter-bar" not in body
    assert row_names(fragment) == ["Adam"]
    assert "Clear filters" in body


def test_filter_by_tag_and_by_company(signed_in, me):
    vip = Tag.objects.create(name="VIP")
    acme = Company.objects.create(name="Acme", owner=me)
    Contact.objects.create(first_name="Ada", owner=me, company=acme)
    Contact.objects.create(first_name="Grace", owner=me).tags.add(vip)
    assert row_names(signed_in.get(LIST, {"tag": vip.pk})) == ["Grace"]
    response = signed_in.get(LIST, {"company": acme.pk})
    assert row_names(response) == ["Ada"]
    assert "Company: Acme" in response.content.decode()  # the filter is shown, and can be removed


def test_sort_by_name_and_by_last_update(signed_in, me):
    now = timezone.now()
    for index, name in enumerate(["Bea", "Ada", "Cy"]):
        contact = Contact.objects.create(first_name=name, owner=me)
        Contact.objects.filter(pk=contact.pk).update(updated_at=now - dt.timedelta(days=index))
    assert row_names(signed_in.get(LIST)) == ["Ada", "Bea", "Cy"]
    assert row_names(signed_in.get(LIST, {"sort": "-name"})) == ["Cy", "Bea", "Ada"]
    assert row_names(signed_in.get(LIST, {"sort": "-updated"})) == ["Bea", "Ada", "Cy"]
    assert row_names(signed_in.get(LIST, {"sort": "updated"})) == ["Cy", "Ada", "Bea"]
    assert row_names(signed_in.get(LIST, {"sort": "password"})) == ["Ada", "Bea", "Cy"]  # not on the list: by name


@pytest.mark.parametrize("sort", ["name", "-name", "-updated", "created"])
def test_keyset_pages_cover_every_row_once(signed_in, me, sort):
    now = timezone.now()
    for index in range(57):
        contact = Contact.objects.create(first_name=f"Person {index % 7}", last_name=f"{index:02d}", owner=me)
        Contact.objects.filter(pk=contact.pk).update(updated_at=now - dt.timedelta(minutes=index % 5))
    seen: list[str] = []
    url = f"{LIST}?sort={sort}"
    pages = 0
    while url:
        response = signed_in.get(url)
        seen += row_names(response)
        pages += 1
        found = re.search(r'href="\?([^"]*after=[^"]+)"', response.content.decode())
        url = f"{LIST}?{found.group(1).replace('&amp;', '&')}" if found else ""
    assert pages == 3
    assert len(seen) == 57 and len(set(seen)) == 57

    # And back: "newer" from the last page shows the page before it.
    found = re.search(r'href="\?([^"]*before=[^"]+)"', response.content.decode())
    previous = signed_in.get(f"{LIST}?{found.group(1).replace('&amp;', '&')}")
    assert row_names(previous) == seen[25:50]


def test_column_chooser_is_remembered_per_user(client, me, roles):
    vip = Tag.objects.create(name="VIP")
    Contact.objects.create(first_name="Ada", owner=me, city="Berlin").tags.add(vip)
    client.force_login(me)
    assert headers(client.get(LIST)) == ["email", "phone", "company", "lifecycle_stage", "owner"]

    response = client.post(
        reverse("customers:contact_columns"), {"columns": ["tags", "city", "nonsense"], "next": f"{LIST}?sort=-name"}
    )
    assert response["Location"] == f"{LIST}?sort=-name"
    response = client.get(LIST)
    assert headers(response) == ["tags", "city"]
    assert "Berlin" in response.content.decode() and "VIP" in response.content.decode()

    other = make_user(module="customers", scope="own")
    Contact.objects.create(first_name="Grace", owner=other)
    client.force_login(other)
    assert "phone" in headers(client.get(LIST))  # someone else keeps the default columns

    client.force_login(me)
    client.post(reverse("customers:contact_columns"), {"reset": "1"})
    assert "phone" in headers(client.get(LIST))


def test_empty_list_invites_to_add_the_first_contact(signed_in):
    page = signed_in.get(LIST).content.decode()
    assert "No contacts yet" in page and f'href="{CREATE}"' in page
    page = signed_in.get(LIST, {"q": "nobody"}).content.decode()
    assert "No contacts match these filters." in page and "Clear filters" in page


def test_readers_see_no_create_button_and_no_bulk_actions(client, roles):
    reader = make_user(module="customers", actions=("view",))
    Contact.objects.create(first_name="Ada", owner=reader)
    client.force_login(reader)
    page = client.get(LIST).content.decode()
    assert f'href="{CREATE}"' not in page and "data-bulk-row" not in page


def test_names_are_escaped_everywhere(signed_in, me):
    contact = Contact.objects.create(first_name="<script>alert(1)</script>", owner=me)
    for url in (LIST, contact.get_absolute_url(), reverse("customers:contact_edit", args=[contact.pk])):
        page = signed_in.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- 360 page ----------------------------------------------------------------------------------------


@pytest.fixture
def test_panels():
    panels = [
        RecordPanel(
            key="test-deals",
            template="includes/empty.html",
            module="customers",
            models=("customers.contact", "customers.company"),
            context=lambda *, user, obj: {"title": f"Open deals of {obj.name}", "icon": "ti-currency-dollar"},
        ),
        RecordPanel(
            key="test-side",
            template="includes/empty.html",
            module="customers",
            models=("customers.contact",),
            context=lambda *, user, obj: {"title": "Side panel here"},
            column="side",
        ),
        RecordPanel(
            key="test-nothing",
            template="includes/empty.html",
            module="customers",
            models=("customers.contact",),
            context=lambda *, user, obj: None,
        ),
        RecordPanel(
            key="test-forbidden",
            template="includes/empty.html",
            module="support",
            models=("customers.contact",),
            context=lambda *, user, obj: {"title": "Tickets nobody may see"},
        ),
    ]
    for panel in panels:
        platform.register_panel(panel)
    yield panels
    for panel in panels:
        platform.panels.pop(panel.key, None)


def test_the_360_page_shows_summary_panels_and_history(signed_in, me, test_panels):
    CustomField.objects.create(entity="contact", key="shoe_size", label="Shoe size", kind="number")
    acme = Company.objects.create(name="Acme Ltd", owner=me)
    contact = Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        title="CTO",
        company=acme,
        owner=me,
        lifecycle_stage="customer",
        city="London",
        country="GB",
        custom={"shoe_size": 38},
    )
    ContactEmail.objects.create(contact=contact, email="ada@example.com", is_primary=True)
    ContactPhone.objects.create(contact=contact, number="+442079460958", is_primary=True)
    contact.tags.add(Tag.objects.create(name="VIP"))

    page = signed_in.get(contact.get_absolute_url()).content.decode()

    assert "Ada Lovelace" in page and "CTO" in page and f'href="{acme.get_absolute_url()}"' in page
    assert 'href="mailto:ada@example.com"' in page
    assert 'href="tel:+442079460958"' in page and "+44 20 7946 0958" in page
    assert "United Kingdom" in page and "London" in page
    assert 'data-custom-field="shoe_size"' in page and "Shoe size" in page
    assert "VIP" in page and "Customer" in page
    assert "Open deals of Ada Lovelace" in page and "Side panel here" in page
    assert "Tickets nobody may see" not in page  # the role may not view that module
    assert "History" in page and "Created" in page


def test_the_company_of_a_contact_outside_scope_is_named_but_not_linked(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    hidden = Company.objects.create(name="Elsewhere Inc", owner=other)
    contact = Contact.objects.create(first_name="Ada", owner=me, company=hidden)
    page = signed_in.get(contact.get_absolute_url()).content.decode()
    assert "Elsewhere Inc" in page and hidden.get_absolute_url() not in page


# --- form --------------------------------------------------------------------------------------------


def test_create_a_contact_with_emails_and_phones_and_edit_it_again(signed_in, me):
    acme = Company.objects.create(name="Acme Ltd", owner=me)
    vip = Tag.objects.create(name="VIP")
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": acme.pk,
        "company_search": "Acme Ltd",
        "lifecycle_stage": "opportunity",
        "country": "GB",
        "owner": me.pk,
        "tags": [vip.pk],
        **rows_sent(
            emails=[("ada@example.com", "work", False), ("ADA@home.example", "home", True)],
            phones=[("(212) 555-0100", "mobile", True), ("", "mobile", False)],
        ),
    }
    response = signed_in.post(CREATE, data)
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert response["Location"] == contact.get_absolute_url()
    assert contact.company == acme and contact.country == "GB" and list(contact.tags.all()) == [vip]
    assert list(contact.emails.values_list("email", "kind", "is_primary")) == [
        ("ada@home.example", "home", True),
        ("ada@example.com", "work", False),
    ]
    assert contact.email == "ada@home.example" and contact.phone == "+12125550100"

    page = signed_in.get(reverse("customers:contact_edit", args=[contact.pk])).content.decode()
    assert 'value="ada@home.example"' in page and 'value="+1 212-555-0100"' in page
    assert 'value="Acme Ltd"' in page and f'name="version" value="{contact.version}"' in page


def test_saving_unchanged_emails_leaves_them_alone(signed_in, me):
    contact = Contact.objects.create(first_name="Ada", owner=me, email="ada@example.com")
    kept = ContactEmail.objects.create(contact=contact, email="ada@example.com", is_primary=True)
    data = {
        "first_name": "Ada",
        "last_name": "King",
        "lifecycle_stage": "lead",
        "owner": me.pk,
        "version": contact.version,
        **rows_sent(emails=[("ada@example.com", "work", True)], initial_emails=1),
    }
    assert signed_in.post(reverse("customers:contact_edit", args=[contact.pk]), data).status_code == 302
    assert list(ContactEmail.objects.values_list("pk", flat=True)) == [kept.pk]
    contact.refresh_from_db()
    assert contact.name == "Ada King"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"emails": [("not-an-address", "work", False)]}, "Enter a valid email address."),
        ({"phones": [("12345", "mobile", False)]}, "is not a valid phone number"),
    ],
)
def test_a_bad_email_or_phone_shows_next_to_it_and_nothing_is_written(signed_in, me, rows, message):
    data = {"first_name": "Ada", "last_name": "Lovelace", "lifecycle_stage": "lead", **rows_sent(**rows)}
    response = signed_in.post(CREATE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "invalid-feedback" in page
    assert 'value="Lovelace"' in page  # the user's input is kept
    assert not Contact.objects.exists() and not ContactEmail.objects.exists()


def test_a_service_error_lands_next_to_its_field(signed_in):
    response = signed_in.post(CREATE, {"title": "CTO", "lifecycle_stage": "lead", **rows_sent()})
    assert response.status_code == 400
    page = response.content.decode()
    first_name = page.index('name="first_name"')
    error = page.index("Give the contact a name")
    assert first_name < error < page.index('name="last_name"')
    assert not Contact.objects.exists()


def test_a_company_outside_scope_cannot_be_chosen(signed_in, roles):
    other = make_user(module="customers", scope="own")
    hidden = Company.objects.create(name="Hidden Ltd", owner=other)
    response = signed_in.post(
        CREATE, {"first_name": "Ada", "lifecycle_stage": "lead", "company": hidden.pk, "company_search": "Hidden Ltd"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page and not Contact.objects.exists()


def test_a_typed_company_name_is_found_without_javascript(signed_in, me):
    acme = Company.objects.create(name="Acme Ltd", owner=me)
    response = signed_in.post(CREATE, {"first_name": "Ada", "lifecycle_stage": "lead", "company_search": "acme ltd"})
    assert response.status_code == 302
    assert Contact.objects.get().company == acme


def test_a_stale_edit_is_refused_with_a_reload_link(signed_in, me):
    contact = Contact.objects.create(first_name="Ada", owner=me)
    url = reverse("customers:contact_edit", args=[contact.pk])
    data = {"first_name": "Ada", "lifecycle_stage": "lead", "version": contact.version}
    assert signed_in.post(url, {**data, "title": "CTO"}).status_code == 302
    response = signed_in.post(url, {**data, "title": "CEO"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Reload the current version" in page and 'value="CEO"' in page
    contact.refresh_from_db()
    assert contact.title == "CTO"


def test_the_edit_form_needs_the_version(signed_in, me):
    contact = Contact.objects.create(first_name="Ada", owner=me)
    response = signed_in.post(
        reverse("customers:contact_edit", args=[contact.pk]), {"first_name": "Eve", "lifecycle_stage": "lead"}
    )
    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.first_name == "Ada"


def test_add_contact_from_a_company_prefills_it(signed_in, me):
    acme = Company.objects.create(name="Acme Ltd", owner=me)
    page = signed_in.get(CREATE, {"company": acme.pk}).content.decode()
    assert 'value="Acme Ltd"' in page and f'value="{acme.pk}"' in page


def test_delete_asks_then_deletes(signed_in, me):
    contact = Contact.objects.create(first_name="Ada", owner=me)
    url = reverse("customers:contact_delete", args=[contact.pk])
    assert "Delete Ada?" in signed_in.get(url).content.decode()
    response = signed_in.post(url)
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Contact.objects.exists()


# --- company picker ------------------------------------------------------------------------------------


def test_company_suggestions_come_only_from_the_scope(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    Company.objects.create(name="Acme Berlin", owner=me)
    Company.objects.create(name="Acme Hidden", owner=other)
    response = signed_in.get(reverse("customers:company_autocomplete"), {"q": "acme"})
    page = response.content.decode()
    assert "Acme Berlin" in page and "Acme Hidden" not in page
    assert (
        signed_in.get(reverse("customers:company_autocomplete"), {"company_search": "berlin"})
        .content.decode()
        .count("data-autocomplete-pick")
        == 1
    )


def test_contact_suggestions_come_only_from_the_scope(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    acme = Company.objects.create(name="Acme Berlin", owner=me)
    services.contact_create(
        actor=me, data={"full_name": "Zed Mine", "company": acme, "emails": [{"email": "zed@mine.example"}]}
    )
    services.contact_create(actor=other, data={"full_name": "Zed Hidden", "emails": [{"email": "zed@hidden.example"}]})
    response = signed_in.get(reverse("customers:contact_autocomplete"), {"q": "zed"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Zed Mine" in page and "zed@mine.example" in page and "Acme Berlin" in page
    assert "Hidden" not in page
    by_email = signed_in.get(reverse("customers:contact_autocomplete"), {"q": "ZED@hidden.example"})
    assert by_email.status_code == 200 and "Hidden" not in by_email.content.decode()
    mine = signed_in.get(reverse("customers:contact_autocomplete"), {"q": "zed@mine.example"}).content.decode()
    assert mine.count("data-autocomplete-pick") == 1
    nothing = signed_in.get(reverse("customers:contact_autocomplete"), {"q": "nobody"}).content.decode()
    assert "data-autocomplete-pick" not in nothing and "No contact matches." in nothing


def test_company_suggestions_need_the_module(client, roles):
    nobody = make_user(module="nothing", actions=())
    client.force_login(nobody)
    assert client.get(reverse("customers:company_autocomplete"), {"q": "a"}).status_code == 403


def test_chinese_pages_say_how_many_are_selected_and_name_calendar_months_in_chinese_word_order(client, roles):
    reader = make_user(module="customers", scope="all")
    reader.language = "zh-hans"
    reader.save(update_fields=["language"])
    client.force_login(reader)
    Contact.objects.create(first_name="Ada", owner=reader)
    page = client.get(reverse("customers:contact_list")).content.decode()
    assert "已选择 <span data-bulk-count>0</span> 项" in page
    calendar = client.get(reverse("customers:calendar")).content.decode()
    assert "上个月</span>" in calendar and "下个月</span>" in calendar and "上一页" not in calendar


def test_the_search_box_finds_a_contact_by_the_start_of_an_email_address(signed_in, me):
    services.contact_create(actor=me, data={"full_name": "王小明", "emails": [{"email": "xiaoming.wang@example.cn"}]})
    services.contact_create(
        actor=me, data={"full_name": "Felix Martin", "emails": [{"email": "felix.7@cn5.example.com"}]}
    )

    def names(query):
        page = signed_in.get(reverse("customers:contact_list"), {"q": query}).content.decode()
        return [name for name in ("王小明", "Felix Martin") if name in page]

    assert names("xiaoming") == ["王小明"]
    assert names("Felix.7@CN5") == ["Felix Martin"]
    assert names("felix.7@cn5.example.com") == ["Felix Martin"]
    assert names("example.cn") == []  # the start of the address, not any part of it
    assert names("小明") == ["王小明"]
