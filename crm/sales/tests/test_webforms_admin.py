"""Web forms, the administrator's side: the rules of a form, Settings → Web forms, the snippet, the
API (/api/v1/lead-forms/), the Settings entry and the demo form."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.core.exceptions import ConflictError
from crm.core.registry import platform
from crm.core.testing import api_client, journal_entries, make_user
from crm.sales.models import Lead, LeadForm
from crm.sales.webforms import demo, services, snippet

pytestmark = pytest.mark.django_db

LIST = reverse("sales:lead_form_list")
CREATE = reverse("sales:lead_form_create")
API = reverse("sales-api:lead-form-list")


def create(actor, **changes) -> LeadForm:
    data = {
        "name": "Contact us",
        "fields": ["first_name", "last_name", "email", "notes"],
        "required_fields": ["email"],
        "double_opt_in": True,
    }
    data.update(changes)
    return services.lead_form_create(actor=actor, data=data)


def page_data(**changes) -> dict:
    data = {
        "name": "Trade fair",
        "fields": ["email", "first_name", "company_name"],
        "required_fields": ["email"],
        "thank_you": "See you at the booth!",
        "double_opt_in": "on",
        "consent_text": "",
        "source": "event",
    }
    data.update(changes)
    return data


@pytest.fixture
def sales_manager(roles):
    from crm.accounts.tests.factories import UserFactory

    return UserFactory(role=roles["sales_manager"])


# --- the rules of a form ----------------------------------------------------------------------------------


def test_a_form_keeps_its_fields_in_order_gets_a_public_key_and_is_journaled(admin_user):
    form = create(admin_user, fields=["notes", "email", "first_name"], required_fields=["first_name", "email"])
    assert form.fields == ["notes", "email", "first_name"]
    assert form.required_fields == ["email", "first_name"]  # in the order of the form
    assert len(form.token) >= 16 and form.is_active and form.source == "web_form"
    assert journal_entries(form).get().action == "create"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"fields": ["email", "shoe_size"]}, "fields", "“shoe_size” is not a field a web form can ask for"),
        ({"fields": ["email", "email"]}, "fields", "listed twice"),
        ({"fields": []}, "fields", "Choose at least one field"),
        ({"fields": "email"}, "fields", "Send a list of field names"),
        ({"fields": ["first_name", "notes"], "required_fields": []}, "fields", "email address or a phone number"),
        ({"required_fields": ["phone"]}, "required_fields", "“Phone” cannot be required"),
        ({"required_fields": ["favourite_colour"]}, "required_fields", "is not a field a web form can ask for"),
        ({"fields": ["phone"], "required_fields": [], "double_opt_in": True}, "double_opt_in", "add the email field"),
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"consent_text": "x" * 301}, "consent_text", "at most 300 characters"),
        ({"source": "carrier_pigeon"}, "source", "Choose one of the sources"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_a_bad_form_is_refused_next_to_its_input_and_nothing_is_written(admin_user, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        create(admin_user, **changes)
    assert message in " ".join(caught.value.message_dict[field])
    assert not LeadForm.objects.exists()


def test_a_phone_only_form_without_double_opt_in_is_fine(admin_user):
    form = create(admin_user, fields=["name", "phone"], required_fields=["phone"], double_opt_in=False)
    assert form.fields == ["name", "phone"]


def test_an_edit_keeps_the_public_key_and_a_stale_edit_is_refused(admin_user):
    form = create(admin_user)
    token = form.token
    services.lead_form_update(actor=admin_user, form=form, data={"name": "Say hello"}, version=form.version)
    stale = LeadForm.objects.get()
    stale.version -= 1
    with pytest.raises(ConflictError):
        services.lead_form_update(actor=admin_user, form=stale, data={"name": "Other"}, version=stale.version)
    form = LeadForm.objects.get()
    assert (form.name, form.token) == ("Say hello", token)
    assert [entry.action for entry in journal_entries(form)] == ["create", "update"]


def test_a_bad_edit_changes_nothing(admin_user):
    form = create(admin_user)
    with pytest.raises(ValidationError):
        services.lead_form_update(
            actor=admin_user, form=form, data={"fields": ["notes"], "required_fields": []}, version=form.version
        )
    assert LeadForm.objects.get().fields == ["first_name", "last_name", "email", "notes"]


def test_only_administrators_manage_forms(admin_user, sales_manager):
    with pytest.raises(PermissionDenied):
        create(sales_manager)
    form = create(admin_user)
    with pytest.raises(PermissionDenied):
        services.lead_form_set_active(actor=sales_manager, form=form, active=False)
    with pytest.raises(PermissionDenied):
        services.lead_form_delete(actor=sales_manager, form=form)
    assert LeadForm.objects.get().is_active


# --- the snippet --------------------------------------------------------------------------------------------


def test_the_snippet_is_a_self_contained_form_posting_to_the_public_endpoint(admin_user, settings):
    settings.CRM_BASE_URL = "https://crm.example.com"
    form = create(admin_user, fields=["first_name", "email", "country", "notes"], required_fields=["email"])
    html = snippet.embed_snippet(form, language="en")
    assert f'action="https://crm.example.com/sales/f/{form.token}/submit/"' in html
    assert html.index('name="first_name"') < html.index('name="email"') < html.index('name="country"')
    assert f'<label for="crm-{form.pk}-email">Email *</label>' in html
    assert 'name="email" maxlength="254" autocomplete="email" required' in html
    assert '<option value="DE">Germany</option>' in html and "<textarea" in html
    # The honeypot is hidden by inline style; the script fills in when the page was opened.
    assert 'style="position:absolute;left:-10000px' in html and 'name="fax"' in html
    assert 'name="_started"' in html and "Date.now()" in html and "<script>" in html
    assert 'name="consent"' in html  # double opt-in asks for consent
    assert "<link" not in html and "src=" not in html  # nothing to load from elsewhere


def test_the_snippet_speaks_the_chosen_language_and_asks_consent_only_where_the_form_does(admin_user):
    form = create(admin_user, double_opt_in=False, consent_text="")
    html = snippet.embed_snippet(form, language="zh-hans")
    assert 'lang="zh-hans"' in html and 'name="_lang" value="zh-hans"' in html
    assert 'name="consent"' not in html
    services.lead_form_update(actor=admin_user, form=form, data={"consent_text": "Send me news"}, version=1)
    assert "Send me news" in snippet.embed_snippet(LeadForm.objects.get(), language="en")


def test_the_snippet_escapes_what_the_administrator_typed(admin_user):
    form = create(admin_user, name='Hi --> <b onmouseover="x">', consent_text='<img src=x onerror="alert(1)">')
    html = snippet.embed_snippet(form, language="en")
    assert "<img" not in html and "&lt;img src=x" in html
    assert "-->" not in html.split("\n", 1)[0][4:-3]  # the comment on top cannot be closed early


# --- pages --------------------------------------------------------------------------------------------------


def test_the_list_starts_empty_with_an_invitation(admin_client):
    response = admin_client.get(LIST)
    assert response.status_code == 200
    assert "No web forms yet" in response.content.decode()


def test_settings_lists_web_forms_for_administrators(admin_client):
    item = next(entry for entry in platform.nav if entry.url_name == "sales:lead_form_list")
    assert (item.module, item.section) == ("accounts", "admin")
    assert LIST in admin_client.get(reverse("core:dashboard")).content.decode()


def test_an_administrator_creates_a_form_on_the_page_in_the_order_of_the_rows(admin_client):
    response = admin_client.post(CREATE, page_data())
    form = LeadForm.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("sales:lead_form_detail", args=[form.pk])
    assert form.fields == ["email", "first_name", "company_name"]
    assert (form.source, form.double_opt_in, form.thank_you) == ("event", True, "See you at the booth!")


def test_a_required_box_on_a_field_not_asked_for_is_ignored(admin_client):
    admin_client.post(CREATE, page_data(required_fields=["email", "phone"]))
    assert LeadForm.objects.get().required_fields == ["email"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fields": ["first_name", "notes"]}, "email address or a phone number"),
        ({"fields": ["email", "unknown_field"]}, "Select a valid choice"),
        ({"fields": ["phone"], "required_fields": ["phone"]}, "add the email field"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_a_bad_form_on_the_page_shows_the_error_and_saves_nothing(admin_client, changes, message):
    response = admin_client.post(CREATE, page_data(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not LeadForm.objects.exists()


def test_the_form_page_shows_the_snippet_the_hosted_page_and_the_history(admin_client, admin_user):
    form = create(admin_user)
    response = admin_client.get(reverse("sales:lead_form_detail", args=[form.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="lead-form-snippet"' in html and "&lt;form method=&quot;post&quot;" in html
    assert f"http://testserver/sales/f/{form.token}/submit/" in html
    assert f"http://testserver/sales/f/{form.token}/" in html
    assert 'data-copy="#lead-form-snippet"' in html
    assert "No submissions yet" in html
    chinese = admin_client.get(reverse("sales:lead_form_detail", args=[form.pk]) + "?snippet_lang=zh-hans")
    assert "lang=&quot;zh-hans&quot;" in chinese.content.decode()


def test_an_edit_on_the_page_and_a_stale_one(admin_client, admin_user):
    form = create(admin_user)
    url = reverse("sales:lead_form_edit", args=[form.pk])
    page = admin_client.get(url).content.decode()
    # The asked fields come first, in their order, then the others.
    assert page.index('id="ask-first_name"') < page.index('id="ask-notes"') < page.index('id="ask-phone"')
    response = admin_client.post(url, page_data(name="Hello", version=form.version))
    assert response.status_code == 302
    response = admin_client.post(url, page_data(name="Stale", version=form.version))
    assert response.status_code == 409
    assert LeadForm.objects.get().name == "Hello"


def test_deactivate_reactivate_and_delete_on_the_pages(admin_client, admin_user):
    form = create(admin_user)
    lead = Lead.objects.create(name="Kept", email="kept@example.com", web_form=form)
    admin_client.post(reverse("sales:lead_form_set_active", args=[form.pk]), {"active": "0"})
    assert not LeadForm.objects.get().is_active
    assert "Inactive" in admin_client.get(LIST).content.decode()
    admin_client.post(reverse("sales:lead_form_set_active", args=[form.pk]), {"active": "1"})
    assert LeadForm.objects.get().is_active
    delete_url = reverse("sales:lead_form_delete", args=[form.pk])
    assert "stop working" in admin_client.get(delete_url).content.decode()
    assert "The 1 lead it brought in is kept." in admin_client.get(delete_url).content.decode()
    response = admin_client.post(delete_url)
    assert response.status_code == 302 and response["Location"] == LIST
    assert not LeadForm.objects.exists()
    lead.refresh_from_db()
    assert lead.web_form is None


def test_people_who_are_not_administrators_get_403_and_unknown_forms_404(client, admin_user, sales_manager):
    form = create(admin_user)
    client.force_login(sales_manager)
    for url in (
        LIST,
        CREATE,
        reverse("sales:lead_form_detail", args=[form.pk]),
        reverse("sales:lead_form_edit", args=[form.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("sales:lead_form_delete", args=[form.pk])).status_code == 403
    assert LeadForm.objects.exists()
    client.force_login(admin_user)
    assert client.get(reverse("sales:lead_form_detail", args=[form.pk + 1])).status_code == 404
    assert client.get(reverse("sales:lead_form_edit", args=[form.pk + 1])).status_code == 404


def test_the_list_and_the_form_page_cost_the_same_queries_however_many_rows(
    admin_client, admin_user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    form = create(admin_user)
    for number in range(3):
        Lead.objects.create(name=f"Lead {number}", email=f"l{number}@example.com", web_form=form, owner=admin_user)
    detail = reverse("sales:lead_form_detail", args=[form.pk])
    with CaptureQueriesContext(connection) as few_forms:
        admin_client.get(LIST)
    with CaptureQueriesContext(connection) as few_leads:
        admin_client.get(detail)
    for number in range(20):
        create(admin_user, name=f"Form {number}")
        Lead.objects.create(name=f"More {number}", email=f"m{number}@example.com", web_form=form, owner=admin_user)
    with django_assert_max_num_queries(len(few_forms)):
        admin_client.get(LIST)
    with django_assert_max_num_queries(len(few_leads)):
        admin_client.get(detail)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


# --- API ----------------------------------------------------------------------------------------------------


def test_the_api_creates_lists_and_shows_a_form_with_its_snippet(admin_user):
    api = api_client(admin_user)
    response = api.post(API, {"name": "Demo request", "fields": ["name", "email", "phone"]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["fields"] == ["name", "email", "phone"] and body["token"] and body["version"] == 1
    assert body["page_url"].endswith(f"/sales/f/{body['token']}/")
    assert "<form" in body["snippet"]
    listed = api.get(API).json()["results"]
    assert [row["name"] for row in listed] == ["Demo request"] and "snippet" not in listed[0]
    detail = api.get(reverse("sales-api:lead-form-detail", args=[body["id"]])).json()
    assert f'action="{body["submit_url"]}"' in detail["snippet"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "X", "fields": ["email", "shoe_size"]}, "fields"),
        ({"name": "X", "fields": ["notes"]}, "fields"),
        ({"name": "X", "fields": ["email"], "required_fields": ["phone"]}, "required_fields"),
        ({"name": "X", "fields": ["email"], "token": "mine"}, "token"),
        ({"name": "X", "fields": ["email"], "submissions": 99}, "submissions"),
    ],
)
def test_the_api_refuses_a_bad_form_with_field_errors(admin_user, data, field):
    response = api_client(admin_user).post(API, data, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not LeadForm.objects.exists()


def test_the_api_edits_with_the_version_and_deletes(admin_user):
    form = create(admin_user)
    api = api_client(admin_user)
    url = reverse("sales-api:lead-form-detail", args=[form.pk])
    assert api.patch(url, {"name": "New"}, format="json").status_code == 400  # no version
    response = api.patch(url, {"name": "New", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 2
    assert api.patch(url, {"name": "Stale", "version": 1}, format="json").status_code == 409
    assert api.patch(url, {"is_active": False, "version": 2}, format="json").json()["is_active"] is False
    assert api.delete(url).status_code == 204
    assert not LeadForm.objects.exists()


def test_the_api_is_for_administrators_only(admin_user, sales_manager):
    form = create(admin_user)
    api = api_client(sales_manager)
    assert api.get(API).status_code == 403
    assert api.get(reverse("sales-api:lead-form-detail", args=[form.pk])).status_code == 403
    assert api.post(API, {"name": "X", "fields": ["email"]}, format="json").status_code == 403
    reader = make_user(module="sales")
    assert api_client(reader).get(API).status_code == 403


# --- demo ---------------------------------------------------------------------------------------------------


def test_the_demo_adds_one_contact_us_form_once(roles):
    builder = platform.demo["sales-webforms"]
    assert builder.order == 55
    demo.build()
    demo.build()
    form = LeadForm.objects.get()
    assert form.name == "Contact us" and form.double_opt_in and "email" in form.fields
    # It passes the rules the administrator's pages apply.
    services._validate(form)
