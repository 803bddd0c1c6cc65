"""Lead pages as a person meets them: the list (filters, sort, pages, empty states, bulk assignment),
the lead's page (activities, status, history), the form, the conversion, and the settings pages of
lead assignment and sales; in English and in Simplified Chinese."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import RoleFactory, TeamFactory, UserFactory
from crm.core.models import Notification
from crm.core.testing import journal_entries
from crm.customers import services as customer_services
from crm.customers.models import Activity, Contact
from crm.sales.models import AssignmentRule, Lead, SalesSettings
from crm.sales.tests.factories import make_lead, make_pipeline

pytestmark = pytest.mark.django_db

LIST = reverse("sales:lead_list")
CREATE = reverse("sales:lead_create")
RULES = reverse("sales:assignment_rule_list")
SETTINGS = reverse("sales:sales_settings")
REP = {"sales": ["view", "create", "edit", "delete"], "customers": ["view", "create", "edit"]}


@pytest.fixture
def me(roles):
    return UserFactory(username="me", role=RoleFactory(permissions=REP, data_scope="own"))


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


def row_names(response) -> list[str]:
    return re.findall(r'class="fw-medium">([^<]+)</a>', response.content.decode())


# --- list ---------------------------------------------------------------------------------------------


def test_list_is_in_the_sidebar_and_shows_my_leads(signed_in, me):
    make_lead(owner=me, name="Mine", company_name="Acme")
    make_lead(owner=UserFactory(), name="Someone else's")
    response = signed_in.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert row_names(response) == ["Mine"]
    assert 'href="/sales/leads/"' in page and "ti-user-search" in page
    assert "1 lead" in page


def test_list_sorts_by_score_name_and_creation(signed_in, me):
    make_lead(owner=me, name="Bravo", score=10)
    make_lead(owner=me, name="Alpha", score=80)
    make_lead(owner=me, name="Charlie", score=50)
    assert row_names(signed_in.get(LIST)) == ["Charlie", "Alpha", "Bravo"]  # newest first
    assert row_names(signed_in.get(f"{LIST}?sort=-score")) == ["Alpha", "Charlie", "Bravo"]
    assert row_names(signed_in.get(f"{LIST}?sort=score")) == ["Bravo", "Charlie", "Alpha"]
    assert row_names(signed_in.get(f"{LIST}?sort=name")) == ["Alpha", "Bravo", "Charlie"]
    assert row_names(signed_in.get(f"{LIST}?sort=nonsense")) == ["Charlie", "Alpha", "Bravo"]


def test_list_filters(signed_in, me):
    make_lead(owner=me, name="Ada", status="qualified", source="referral", score=70, company_name="Analytical")
    make_lead(owner=me, name="Bob", status="new", source="event", score=20, email="bob@example.com")
    assert row_names(signed_in.get(f"{LIST}?status=qualified")) == ["Ada"]
    assert row_names(signed_in.get(f"{LIST}?source=event")) == ["Bob"]
    assert row_names(signed_in.get(f"{LIST}?score_min=50")) == ["Ada"]
    assert row_names(signed_in.get(f"{LIST}?q=analytical")) == ["Ada"]
    assert row_names(signed_in.get(f"{LIST}?q=BOB@example.com")) == ["Bob"]
    assert row_names(signed_in.get(f"{LIST}?owner={me.pk}&sort=name")) == ["Ada", "Bob"]
    response = signed_in.get(f"{LIST}?status=qualified&source=event")
    assert "No leads match these filters." in response.content.decode()


def test_list_pages_by_position(signed_in, me):
    for index in range(30):
        make_lead(owner=me, name=f"Lead {index:02d}")
    first = signed_in.get(f"{LIST}?sort=name")
    assert len(row_names(first)) == 25
    cursor = re.search(r"after=([\w-]+)", first.content.decode()).group(1)
    second = signed_in.get(f"{LIST}?sort=name&after={cursor}")
    assert row_names(second) == [f"Lead {index}" for index in range(25, 30)]


def test_empty_list_invites_to_add(signed_in):
    page = signed_in.get(LIST).content.decode()
    assert "No leads yet" in page and CREATE in page


def test_htmx_asks_for_the_results_only(signed_in, me):
    make_lead(owner=me, name="Only")
    response = signed_in.get(LIST, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "Only" in page and "<html" not in page


def test_bulk_assign(signed_in, me):
    mate = UserFactory(username="mate", role=me.role)
    picked = [make_lead(owner=me, name=f"L{i}") for i in range(2)]
    response = signed_in.post(
        reverse("sales:lead_bulk"), {"ids": [lead.pk for lead in picked], "action": "assign_owner", "owner": mate.pk}
    )
    assert response.status_code == 302
    assert set(Lead.objects.filter(owner=mate).values_list("pk", flat=True)) == {lead.pk for lead in picked}
    response = signed_in.post(reverse("sales:lead_bulk"), {"ids": [], "action": "assign_owner", "owner": mate.pk})
    assert response.status_code == 302


def test_a_reader_sees_the_list_without_buttons(client, roles):
    reader = UserFactory(role=RoleFactory(permissions={"sales": ["view"]}, data_scope="all"))
    make_lead(owner=reader, name="Read me")
    client.force_login(reader)
    page = client.get(LIST).content.decode()
    assert "Read me" in page and CREATE not in page and "data-bulk-row" not in page
    assert client.post(reverse("sales:lead_bulk"), {"ids": [1], "action": "assign_owner"}).status_code == 403


# --- lead page ------------------------------------------------------------------------------------------


def test_detail_shows_fields_score_activities_and_history(signed_in, me):
    lead = make_lead(owner=me, name="Ada", phone="+8613812345678", country="CN", score=42, interest="Licence")
    response = signed_in.get(lead.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("Ada", "+86 138 1234 5678", "Licence", "42", "Activities", "History", "Nothing logged yet"):
        assert text in page, text
    assert reverse("sales:lead_convert", args=[lead.pk]) in page


def test_logging_activities_from_the_lead_page(signed_in, me):
    lead = make_lead(owner=me, name="Ada")
    url = reverse("sales:lead_activity", args=[lead.pk])
    response = signed_in.post(url, {"kind": "call", "outcome": "connected", "body": "Wants a demo"})
    assert response.status_code == 302 and response["Location"].endswith("#activities")
    lead.refresh_from_db()
    assert lead.touched_at is not None
    page = signed_in.get(lead.get_absolute_url()).content.decode()
    assert "Wants a demo" in page and 'data-testid="lead-activity"' in page
    bad = signed_in.post(url, {"kind": "meeting", "subject": ""})
    assert bad.status_code == 400 and "invalid-feedback" in bad.content.decode()
    assert Activity.objects.count() == 1


def test_status_change_from_the_lead_page(signed_in, me):
    lead = make_lead(owner=me)
    url = reverse("sales:lead_status", args=[lead.pk])
    assert signed_in.post(url, {"status": "contacted", "version": lead.version}).status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == "contacted"
    response = signed_in.post(url, {"status": "qualified", "version": lead.version}, follow=True)
    assert "Someone else changed this lead" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "contacted"
    signed_in.post(url, {"status": "converted", "version": lead.version + 1})
    assert Lead.objects.get(pk=lead.pk).status == "contacted"


def test_other_peoples_leads_are_not_found(signed_in):
    lead = make_lead(owner=UserFactory(), name="Hidden")
    for name in ("lead_detail", "lead_edit", "lead_convert", "lead_delete"):
        assert signed_in.get(reverse(f"sales:{name}", args=[lead.pk])).status_code == 404
    assert (
        signed_in.post(reverse("sales:lead_activity", args=[lead.pk]), {"kind": "note", "body": "x"}).status_code == 404
    )
    assert signed_in.post(reverse("sales:lead_status", args=[lead.pk]), {"status": "new"}).status_code == 404


# --- form -------------------------------------------------------------------------------------------------


def test_create_without_owner_goes_by_the_rules(signed_in, me, roles):
    other = UserFactory(username="taker", role=me.role)
    AssignmentRule.objects.create(name="All", method="user", user=other)
    response = signed_in.post(CREATE, {"first_name": "Ada", "last_name": "L", "status": "new", "source": "event"})
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.owner == other and lead.source == "event"
    assert Notification.objects.filter(recipient=other).exists()
    # the creator no longer sees it: sent back to the list with a word why
    assert response["Location"] == LIST


def test_form_shows_errors_next_to_fields_and_saves_nothing(signed_in):
    response = signed_in.post(
        CREATE,
        {"name": "X", "phone": "123", "email": "not-mail", "country": "XX", "status": "new", "source": "other"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved yet" in page and page.count("invalid-feedback d-block") >= 2
    assert not Lead.objects.exists()
    huge = signed_in.post(CREATE, {"name": "x" * (10 * 1024 * 1024 // 10), "status": "new", "source": "other"})
    assert huge.status_code in (400, 413) and not Lead.objects.exists()


def test_edit_form_shows_the_lead(signed_in, me):
    lead = make_lead(owner=me, name="Ada", phone="+12125550100")
    page = signed_in.get(reverse("sales:lead_edit", args=[lead.pk])).content.decode()
    assert 'value="Ada"' in page and "+1 212-555-0100" in page


# --- conversion -----------------------------------------------------------------------------------------


def test_convert_shows_what_it_reuses_and_creates_then_converts(signed_in, me):
    make_pipeline()
    contact = customer_services.contact_create(
        actor=me, data={"full_name": "Ada Existing", "emails": [{"email": "ada@analytical.example"}]}
    )
    lead = make_lead(
        owner=me, name="Ada", email="ada@analytical.example", company_name="Analytical Engines", status="qualified"
    )
    url = reverse("sales:lead_convert", args=[lead.pk])
    page = signed_in.get(url).content.decode()
    assert "Ada Existing" in page and "Reuse" in page
    assert "Analytical Engines" in page and "Create" in page
    response = signed_in.post(
        url,
        {
            "version": lead.version,
            "contact": contact.pk,
            "company": "new",
            "create_deal": "on",
            "pipeline": lead.pk and make_pipeline("Other", is_default=False).pk,
            "amount": "1000",
            "currency": "USD",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.contact == contact and lead.company.name == "Analytical Engines"
    assert lead.deal.pipeline.name == "Other"
    page = signed_in.get(lead.get_absolute_url()).content.decode()
    assert "What this lead became" in page
    assert lead.contact.get_absolute_url() in page and lead.company.get_absolute_url() in page
    assert reverse("sales:lead_convert", args=[lead.pk]) not in page
    again = signed_in.get(url).content.decode()
    assert "already converted" in again
    assert signed_in.post(url, {"contact": "new"}).status_code == 400
    assert Contact.objects.count() == 1


def test_convert_errors_are_next_to_the_fields(signed_in, me):
    make_pipeline()
    lead = make_lead(owner=me, name="Ada", company_name="Acme", status="new")
    url = reverse("sales:lead_convert", args=[lead.pk])
    response = signed_in.post(
        url, {"version": lead.version, "contact": "new", "company": "new", "create_deal": "on", "amount": "lots"}
    )
    assert response.status_code == 400
    assert "Nothing was converted yet" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "new" and not Contact.objects.exists()


def test_unqualified_leads_are_not_converted(signed_in, me):
    lead = make_lead(owner=me, status="unqualified")
    page = signed_in.get(reverse("sales:lead_convert", args=[lead.pk])).content.decode()
    assert "unqualified lead cannot be converted" in page
    assert 'data-testid="convert-button"' not in signed_in.get(lead.get_absolute_url()).content.decode()


# --- languages --------------------------------------------------------------------------------------------


def test_pages_render_in_english_and_simplified_chinese(client, me):
    make_pipeline()
    lead = make_lead(owner=me, name="王芳", company_name="华新科技", status="qualified")
    converted = make_lead(owner=me, name="李伟", status="new")
    client.force_login(me)
    client.post(reverse("sales:lead_convert", args=[converted.pk]), {"contact": "new", "company": "new"})
    urls = [
        LIST,
        f"{LIST}?status=new",
        lead.get_absolute_url(),
        converted.get_absolute_url(),
        reverse("sales:lead_edit", args=[lead.pk]),
        reverse("sales:lead_convert", args=[lead.pk]),
        reverse("sales:lead_convert", args=[converted.pk]),
        CREATE,
    ]
    for language in ("en", "zh-hans"):
        me.language = language
        me.save()
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, url
            assert f'<html lang="{language}">' in response.content.decode()


# --- settings ---------------------------------------------------------------------------------------------


def test_assignment_settings_for_administrators(admin_client, admin_user, me):
    team = TeamFactory(name="Inside", members=[me])
    page = admin_client.get(RULES).content.decode()
    assert "No assignment rules yet" in page and RULES in page and SETTINGS in page
    response = admin_client.post(
        reverse("sales:assignment_rule_create"),
        {
            "name": "Germany",
            "is_active": "on",
            "method": "round_robin",
            "team": team.pk,
            "countries": ["DE", "AT"],
            "industries": "Software, Retail",
            "sources": ["event"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AssignmentRule.objects.get()
    assert rule.countries == ["DE", "AT"] and rule.industries == ["Software", "Retail"] and rule.sources == ["event"]
    page = admin_client.get(RULES).content.decode()
    assert "Germany" in page and "1 person available" in page
    second = admin_client.post(
        reverse("sales:assignment_rule_create"), {"name": "Named", "method": "user", "user": me.pk, "is_active": "on"}
    )
    assert second.status_code == 302
    admin_client.post(
        reverse("sales:assignment_rule_move", args=[AssignmentRule.objects.get(name="Named").pk]), {"direction": "up"}
    )
    assert list(AssignmentRule.objects.order_by("order").values_list("name", flat=True)) == ["Named", "Germany"]
    rule.refresh_from_db()  # reordering is a change too (a new version)
    edit = reverse("sales:assignment_rule_edit", args=[rule.pk])
    assert admin_client.get(edit).status_code == 200
    bad = admin_client.post(edit, {"name": "", "method": "round_robin", "version": rule.version})
    assert bad.status_code == 400 and "Nothing was saved yet" in bad.content.decode()
    ok = admin_client.post(edit, {"name": "DACH", "method": "round_robin", "team": team.pk, "version": rule.version})
    assert ok.status_code == 302
    stale = admin_client.post(
        edit, {"name": "Stale", "method": "round_robin", "team": team.pk, "version": rule.version}
    )
    assert stale.status_code == 409
    delete = reverse("sales:assignment_rule_delete", args=[rule.pk])
    assert "Delete the rule" in admin_client.get(delete).content.decode()
    assert admin_client.post(delete).status_code == 302
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Named"]
    assert journal_entries(rule).count() >= 3


def test_sales_settings_page(admin_client, me):
    page = admin_client.get(SETTINGS)
    assert page.status_code == 200
    loaded = re.search(r'name="loaded_at" value="([^"]+)"', page.content.decode()).group(1)
    data = {"loaded_at": loaded, "fallback_owner": me.pk, "lead_response_hours": "24", "stale_deal_days": "10"}
    response = admin_client.post(SETTINGS, data)
    assert response.status_code == 302
    settings = SalesSettings.load()
    assert (settings.fallback_owner, settings.lead_response_hours, settings.stale_deal_days) == (me, 24, 10)
    stale = admin_client.post(SETTINGS, {**data, "stale_deal_days": "20"})
    assert stale.status_code == 409 and SalesSettings.load().stale_deal_days == 10
    fresh = re.search(r'name="loaded_at" value="([^"]+)"', admin_client.get(SETTINGS).content.decode()).group(1)
    bad = admin_client.post(SETTINGS, {**data, "loaded_at": fresh, "stale_deal_days": "-3"})
    assert bad.status_code == 400 and SalesSettings.load().stale_deal_days == 10
    for language in ("en", "zh-hans"):
        for url in (RULES, SETTINGS, reverse("sales:assignment_rule_create")):
            assert admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code == 200


def test_settings_are_for_administrators_only(signed_in):
    for url in (RULES, SETTINGS, reverse("sales:assignment_rule_create")):
        assert signed_in.get(url).status_code == 403
    assert signed_in.post(SETTINGS, {"lead_response_hours": "1"}).status_code == 403
    page = signed_in.get(LIST).content.decode()
    assert RULES not in page


def test_settings_are_in_the_administration_menu(admin_client):
    page = admin_client.get(LIST).content.decode()
    assert RULES in page and SETTINGS in page
