"""Company pages: the list, the 360 page with its contacts and its group (parent and subsidiaries),
the form and delete."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm.core.testing import make_user
from crm.customers.models import Company, Contact, Tag
from crm.customers.views.companies import CONTACTS_SHOWN

pytestmark = pytest.mark.django_db

LIST = reverse("customers:company_list")
CREATE = reverse("customers:company_create")


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


def row_names(response) -> list[str]:
    return re.findall(r'class="fw-medium">([^<]+)</a>', response.content.decode())


def edit_data(company, **changes):
    data = {
        "name": company.name,
        "website": company.website,
        "domain": company.domain,
        "parent": company.parent_id or "",
        "parent_search": company.parent.name if company.parent else "",
        "owner": company.owner_id or "",
        "version": company.version,
    }
    data.update(changes)
    return data


# --- list --------------------------------------------------------------------------------------------


def test_list_filters_and_sorts(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    Company.objects.create(name="Acme", industry="Retail", owner=me)
    Company.objects.create(name="Blue River", industry="Software", owner=me)
    Company.objects.create(name="Cedar", industry="software", owner=me)
    Company.objects.create(name="Hidden", industry="Software", owner=other)

    assert row_names(signed_in.get(LIST)) == ["Acme", "Blue River", "Cedar"]
    assert row_names(signed_in.get(LIST, {"sort": "-name"})) == ["Cedar", "Blue River", "Acme"]
    assert row_names(signed_in.get(LIST, {"industry": "Software"})) == ["Blue River", "Cedar"]
    fragment = signed_in.get(LIST, {"q": "river"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and row_names(fragment) == ["Blue River"]


def test_list_filters_by_tag_and_finds_by_domain(signed_in, me):
    vip = Tag.objects.create(name="VIP")
    Company.objects.create(name="Acme", domain="acme.example", owner=me).tags.add(vip)
    Company.objects.create(name="Beta", domain="beta.example", owner=me)
    assert row_names(signed_in.get(LIST, {"tag": vip.pk})) == ["Acme"]
    assert row_names(signed_in.get(LIST, {"q": "beta.example"})) == ["Beta"]


def test_empty_company_list_invites_to_add_one(signed_in):
    page = signed_in.get(LIST).content.decode()
    assert "No companies yet" in page and f'href="{CREATE}"' in page


def test_subsidiaries_of_a_company_can_be_listed(signed_in, me):
    holding = Company.objects.create(name="Holding", owner=me)
    Company.objects.create(name="Daughter", owner=me, parent=holding)
    Company.objects.create(name="Stranger", owner=me)
    response = signed_in.get(LIST, {"parent": holding.pk})
    assert row_names(response) == ["Daughter"]
    assert "Subsidiaries of: Holding" in response.content.decode()


# --- 360 page ----------------------------------------------------------------------------------------


def test_hierarchy_is_shown_both_ways(signed_in, me):
    holding = Company.objects.create(name="Holding AG", owner=me)
    daughter = Company.objects.create(name="Daughter GmbH", owner=me, parent=holding)
    Company.objects.create(name="Second Daughter", owner=me, parent=holding)

    page = signed_in.get(holding.get_absolute_url()).content.decode()
    assert re.findall(r'data-testid="subsidiary">([^<]+)<', page) == ["Daughter GmbH", "Second Daughter"]

    page = signed_in.get(daughter.get_absolute_url()).content.decode()
    assert f'href="{holding.get_absolute_url()}" data-testid="parent">Holding AG<' in page
    assert 'data-testid="subsidiary"' not in page


def test_a_parent_outside_scope_is_named_but_not_linked_and_hidden_subsidiaries_stay_hidden(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    holding = Company.objects.create(name="Group Holding", owner=other)
    mine = Company.objects.create(name="My Company", owner=me, parent=holding)
    Company.objects.create(name="Secret Daughter", owner=other, parent=mine)
    page = signed_in.get(mine.get_absolute_url()).content.decode()
    assert "Group Holding" in page and holding.get_absolute_url() not in page
    assert "Secret Daughter" not in page


def test_company_page_lists_its_contacts_with_a_link_to_all_of_them(signed_in, me, roles):
    other = make_user(module="customers", scope="own")
    acme = Company.objects.create(name="Acme", owner=me, website="https://acme.example", phone="+12125550100")
    for index in range(CONTACTS_SHOWN + 2):
        Contact.objects.create(first_name=f"Person {index:02d}", owner=me, company=acme)
    Contact.objects.create(first_name="Invisible", owner=other, company=acme)

    page = signed_in.get(acme.get_absolute_url()).content.decode()
    names = re.findall(r'class="fw-medium">(Person \d+)</a>', page)
    assert names == [f"Person {index:02d}" for index in range(CONTACTS_SHOWN)]
    assert "Invisible" not in page
    contacts_url = f"{reverse('customers:contact_list')}?company={acme.pk}"
    assert "View all 12 contacts" in page and f'href="{contacts_url}"' in page
    assert 'href="tel:+12125550100"' in page and "+1 212-555-0100" in page

    listed = signed_in.get(contacts_url)
    assert len(re.findall(r'class="fw-medium">Person', listed.content.decode())) == CONTACTS_SHOWN + 2


def test_company_page_renders_registered_panels(signed_in, me):
    from crm.core.registry import RecordPanel, platform

    panel = RecordPanel(
        key="test-company-panel",
        template="includes/empty.html",
        module="customers",
        models=("customers.company",),
        context=lambda *, user, obj: {"title": f"Tickets of {obj.name}"},
        column="side",
    )
    platform.register_panel(panel)
    try:
        acme = Company.objects.create(name="Acme", owner=me)
        assert "Tickets of Acme" in signed_in.get(acme.get_absolute_url()).content.decode()
    finally:
        platform.panels.pop(panel.key, None)


# --- form and delete ---------------------------------------------------------------------------------


def test_create_a_company_with_a_parent_and_derived_domain(signed_in, me):
    holding = Company.objects.create(name="Holding AG", owner=me)
    response = signed_in.post(
        CREATE,
        {
            "name": "Acme",
            "website": "www.acme.example",
            "phone": "(212) 555-0100",
            "parent": holding.pk,
            "parent_search": "Holding AG",
            "country": "DE",
            "owner": me.pk,
        },
    )
    assert response.status_code == 302
    acme = Company.objects.get(name="Acme")
    assert acme.domain == "acme.example" and acme.website == "https://www.acme.example"
    assert acme.phone == "+12125550100" and acme.parent == holding and acme.owner == me


def test_a_bad_phone_number_is_shown_next_to_the_field(signed_in):
    response = signed_in.post(CREATE, {"name": "Acme", "phone": "12"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a valid phone number" in page and 'value="Acme"' in page
    assert not Company.objects.exists()


def test_a_parent_cycle_is_refused_next_to_the_parent_field(signed_in, me):
    holding = Company.objects.create(name="Holding AG", owner=me)
    daughter = Company.objects.create(name="Daughter GmbH", owner=me, parent=holding)
    response = signed_in.post(
        reverse("customers:company_edit", args=[holding.pk]),
        edit_data(holding, parent=daughter.pk, parent_search="Daughter GmbH"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be its own parent" in page
    assert page.index('name="parent_search"') < page.index("cannot be its own parent")
    holding.refresh_from_db()
    assert holding.parent is None


def test_a_company_cannot_be_its_own_parent_in_the_form(signed_in, me):
    acme = Company.objects.create(name="Acme", owner=me)
    response = signed_in.post(
        reverse("customers:company_edit", args=[acme.pk]), edit_data(acme, parent=acme.pk, parent_search="Acme")
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_clearing_the_parent_box_removes_the_parent(signed_in, me):
    holding = Company.objects.create(name="Holding AG", owner=me)
    daughter = Company.objects.create(name="Daughter GmbH", owner=me, parent=holding)
    response = signed_in.post(
        reverse("customers:company_edit", args=[daughter.pk]), edit_data(daughter, parent_search="")
    )
    assert response.status_code == 302
    daughter.refresh_from_db()
    assert daughter.parent is None


def test_delete_of_a_company_with_contacts_explains_why_not(signed_in, me):
    acme = Company.objects.create(name="Acme", owner=me)
    Contact.objects.create(first_name="Ada", owner=me, company=acme)
    url = reverse("customers:company_delete", args=[acme.pk])
    response = signed_in.post(url, follow=True)
    assert response.redirect_chain[-1][0] == acme.get_absolute_url()
    assert "still has contacts or subsidiaries" in response.content.decode()
    assert Company.objects.filter(pk=acme.pk).exists()


def test_delete_of_an_unused_company(signed_in, me):
    acme = Company.objects.create(name="Acme", owner=me)
    url = reverse("customers:company_delete", args=[acme.pk])
    assert "Delete Acme?" in signed_in.get(url).content.decode()
    response = signed_in.post(url)
    assert response["Location"] == LIST and not Company.objects.exists()


def test_pages_render_in_simplified_chinese(client, me):
    acme = Company.objects.create(name="Acme", owner=me)
    me.language = "zh-hans"
    me.save()
    client.force_login(me)
    for url in (LIST, acme.get_absolute_url(), reverse("customers:company_edit", args=[acme.pk])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        assert '<html lang="zh-hans">' in response.content.decode()
