"""Web forms, the visitor's side: the hosted page, the public endpoint (submissions become leads),
spam protection (honeypot, minimum fill time, rate limit per address, bounded requests) and the
double opt-in confirmation link."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse

from crm.core.models import Notification
from crm.core.testing import journal_entries
from crm.sales.models import Lead, LeadForm, SalesSettings
from crm.sales.webforms import protection, services

pytestmark = pytest.mark.django_db

VISITOR = "203.0.113.7"


@pytest.fixture
def rep(roles):
    from crm.accounts.tests.factories import UserFactory

    rep = UserFactory(username="rita", role=roles["sales_rep"])
    settings_row = SalesSettings.load()
    settings_row.fallback_owner = rep
    settings_row.save()
    return rep


def make_form(**changes) -> LeadForm:
    values = {
        "name": "Contact us",
        "fields": ["first_name", "last_name", "email", "phone", "company_name", "notes"],
        "required_fields": ["email"],
        "double_opt_in": True,
        "thank_you": "Thanks, we will call you back.",
    }
    values.update(changes)
    return LeadForm.objects.create(**values)


def submit_url(form: LeadForm) -> str:
    return reverse("sales:web_form_submit", args=[form.token])


def post(client, form: LeadForm, *, ip: str = VISITOR, opened: float = 10.0, **fields):
    """Send the form as a visitor who opened it ``opened`` seconds ago."""
    headers = {name: fields.pop(name) for name in list(fields) if name.startswith("HTTP_")}
    data = {"_started": protection.started_stamp(form, at=time.time() - opened), "_lang": "en", "fax": ""}
    data.update(fields)
    return client.post(submit_url(form), data, REMOTE_ADDR=ip, **headers)


GOOD = {"first_name": "Mei", "last_name": "Chen", "email": "Mei.Chen@Example.com", "company_name": "Lotus Trading"}


# --- the hosted page -------------------------------------------------------------------------------------------


def test_the_hosted_page_shows_the_form_without_signing_in_and_without_the_crm_around_it(client):
    form = make_form()
    response = client.get(reverse("sales:web_form_page", args=[form.token]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and "Contact us" in html
    assert html.index('name="first_name"') < html.index('name="email"') < html.index('name="notes"')
    assert f'action="{submit_url(form)}"' in html
    assert 'name="fax"' in html and "left:-10000px" in html  # the honeypot, hidden
    stamp = re.search(r'name="_started" value="([^"]+)"', html).group(1)
    assert protection.fill_seconds(form, {"_started": stamp}) < 5  # a signed "opened at"
    assert 'name="consent"' in html
    assert "navbar" not in html and "csrfmiddlewaretoken" not in html and "<script" not in html
    assert "no-cache" in response["Cache-Control"]


def test_the_hosted_page_speaks_the_visitors_language(client):
    form = make_form()
    page = reverse("sales:web_form_page", args=[form.token])
    chinese = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert 'name="_lang" value="zh-hans"' in chinese.content.decode()
    english = client.get(page, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="zh-hans">' in client.get(page + "?lang=zh-hans").content.decode()


def test_unknown_and_inactive_forms_answer_404(client):
    form = make_form(is_active=False)
    for token in (form.token, "no-such-form-key-123", "x"):
        assert client.get(reverse("sales:web_form_page", args=[token])).status_code == 404
        response = post(client, LeadForm(token=token), **GOOD)
        assert response.status_code == 404
        assert "not available" in response.content.decode()
    assert not Lead.objects.exists()


def test_opening_the_endpoint_in_a_browser_leads_to_the_page(client):
    form = make_form()
    response = client.get(submit_url(form))
    assert response.status_code == 302 and response["Location"] == reverse("sales:web_form_page", args=[form.token])


# --- a good submission -------------------------------------------------------------------------------------------


def test_a_good_submission_creates_one_assigned_lead_and_notifies_its_owner(
    client, rep, django_capture_on_commit_callbacks
):
    form = make_form()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, form, **GOOD, phone="+49 30 1234567", notes="Please call me.")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thanks, we will call you back." in html
    lead = Lead.objects.get()
    assert (lead.name, lead.first_name, lead.email) == ("Mei Chen", "Mei", "mei.chen@example.com")
    assert (lead.phone, lead.company_name, lead.notes) == ("+49301234567", "Lotus Trading", "Please call me.")
    assert lead.source == "web_form" and lead.web_form == form
    assert lead.owner == rep and lead.assigned_at is not None
    assert Notification.objects.filter(recipient=rep, title__contains="Mei Chen").exists()
    assert LeadForm.objects.get().submissions == 1
    assert not lead.marketing_consent and lead.consent_requested_at is None and not mail.outbox
    assert journal_entries(lead).first().action == "create"


def test_the_submission_takes_the_forms_source_and_only_the_fields_it_asks_for(client, rep):
    form = make_form(fields=["name", "email"], source="event")
    post(client, form, name="Ada Lovelace", email="ada@example.com", company_name="Sneaky Ltd", owner="1")
    lead = Lead.objects.get()
    assert (lead.name, lead.source, lead.company_name, lead.owner) == ("Ada Lovelace", "event", "", rep)


def test_the_snippet_posts_with_the_time_its_script_measured(client, rep):
    form = make_form()
    data = {**GOOD, "_started": str(int(time.time() * 1000) - 9000), "_elapsed": "9000"}
    assert client.post(submit_url(form), data, REMOTE_ADDR=VISITOR).status_code == 200
    assert Lead.objects.count() == 1


def test_a_thank_you_page_leads_back_to_the_website_the_form_is_on(client, rep):
    form = make_form(thank_you="")
    response = post(client, form, **GOOD, HTTP_REFERER="https://www.example.com/contact")
    html = response.content.decode()
    assert "We have received your details" in html and 'href="https://www.example.com/contact"' in html
    response = post(client, form, **{**GOOD, "email": "b@example.com"}, HTTP_REFERER="javascript:alert(1)")
    assert "javascript:" not in response.content.decode()
    # From the hosted page itself there is no website to go back to.
    page = "http://testserver" + reverse("sales:web_form_page", args=[form.token])
    response = post(client, form, **{**GOOD, "email": "c@example.com"}, HTTP_REFERER=page)
    assert "Back to the previous page" not in response.content.decode()


# --- bad input ------------------------------------------------------------------------------------------------------


def test_an_invalid_email_is_shown_next_to_the_field_and_nothing_is_created(client, rep):
    form = make_form()
    response = post(client, form, **{**GOOD, "email": "mei at example"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in html and 'value="mei at example"' in html
    assert not Lead.objects.exists() and LeadForm.objects.get().submissions == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "This field is required."),
        ({"phone": "12"}, "not a valid phone number"),
        ({"notes": "x" * 6000}, "at most 5000 characters"),
        ({"first_name": "x" * 101}, "at most 100 characters"),
    ],
)
def test_bad_fields_get_clear_errors_and_create_nothing(client, rep, fields, message):
    response = post(client, make_form(), **{**GOOD, **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Lead.objects.exists()


def test_a_form_with_email_and_phone_needs_one_of_them(client, rep):
    form = make_form(required_fields=[])
    response = post(client, form, first_name="Mei")
    assert response.status_code == 400
    assert "Enter an email address or a phone number" in response.content.decode()
    assert post(client, form, first_name="Mei", phone="+86 138 0013 8000").status_code == 200
    assert Lead.objects.get().name == "Mei"


def test_a_10_mb_field_gets_a_clear_error_and_creates_nothing(client, rep):
    response = post(client, make_form(), **{**GOOD, "notes": "x" * (10 * 1024 * 1024)})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not Lead.objects.exists()


def test_a_body_over_the_forms_own_limit_is_refused_with_a_short_page(client, rep):
    response = post(client, make_form(), **{**GOOD, "notes": "x" * (100 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Lead.objects.exists()


def test_a_script_tag_in_a_name_is_stored_as_text_and_escaped_when_shown(client, rep, admin_client):
    form = make_form()
    evil = "<script>alert(1)</script>"
    # Shown back escaped when the form comes back with an error...
    response = post(client, form, **{**GOOD, "first_name": evil, "email": "bad"})
    assert (
        evil not in response.content.decode() and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()
    )
    # ...stored as typed...
    post(client, form, **{**GOOD, "first_name": evil})
    lead = Lead.objects.get()
    assert lead.first_name == evil and lead.name == f"{evil} Chen"
    # ...and escaped on the administrator's page of the form.
    html = admin_client.get(reverse("sales:lead_form_detail", args=[form.pk])).content.decode()
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Chen" in html


# --- spam protection --------------------------------------------------------------------------------------------


def test_a_filled_honeypot_looks_like_success_but_creates_nothing(client, rep, django_capture_on_commit_callbacks):
    form = make_form()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, form, **GOOD, fax="+1 555 0100", consent="1")
    assert response.status_code == 200
    assert "Thanks, we will call you back." in response.content.decode()
    assert not Lead.objects.exists() and LeadForm.objects.get().submissions == 0
    assert not Notification.objects.exists() and not mail.outbox


@pytest.mark.parametrize(
    "timing",
    [
        {"opened": 0.5},  # the hosted page, sent half a second after opening
        {"_started": ""},  # no time at all (no script ran, or a bot)
        {"_started": "", "_elapsed": "800"},  # the snippet, sent 0.8 s after opening
        {"_started": "forged:stamp"},
    ],
)
def test_a_form_sent_faster_than_a_person_can_is_refused(client, rep, timing):
    form = make_form()
    response = post(client, form, **GOOD, **timing)
    assert response.status_code == 400
    html = response.content.decode()
    assert "send the form again" in html and 'value="Lotus Trading"' in html  # kept, with a new stamp
    assert not Lead.objects.exists()


def test_a_stamp_of_another_form_does_not_count(client, rep):
    form, other = make_form(), make_form(name="Other")
    data = {**GOOD, "_started": protection.started_stamp(other, at=time.time() - 60)}
    assert client.post(submit_url(form), data, REMOTE_ADDR=VISITOR).status_code == 400
    assert not Lead.objects.exists()


@override_settings(WEB_FORM_MIN_FILL_SECONDS=0)
def test_the_minimum_fill_time_can_be_turned_off(client, rep):
    response = client.post(submit_url(make_form()), GOOD, REMOTE_ADDR=VISITOR)
    assert response.status_code == 200 and Lead.objects.count() == 1


@override_settings(WEB_FORM_RATE="20/h")
def test_a_burst_of_1000_posts_from_one_address_is_rate_limited_and_others_still_get_through(client, rep):
    form = make_form(double_opt_in=False)
    statuses = []
    for number in range(1000):
        response = post(client, form, **{**GOOD, "email": f"bot{number}@example.com"})
        statuses.append(response.status_code)
    assert statuses[:20] == [200] * 20
    assert set(statuses[20:]) == {429}
    assert "too many" in response.content.decode().lower()
    assert Lead.objects.count() == 20 and LeadForm.objects.get().submissions == 20
    # A real visitor elsewhere still gets through.
    response = post(client, form, ip="198.51.100.23", **{**GOOD, "email": "real@example.com"})
    assert response.status_code == 200
    assert Lead.objects.filter(email="real@example.com").count() == 1


@override_settings(WEB_FORM_RATE="3/h")
def test_spam_counts_against_the_address_too(client, rep):
    form = make_form()
    for _number in range(3):
        post(client, form, **GOOD, fax="spam")
    assert post(client, form, **GOOD).status_code == 429
    assert not Lead.objects.exists()


# --- marketing consent ------------------------------------------------------------------------------------------------


def consent_link() -> str:
    (message,) = mail.outbox
    url = re.search(r"https?://\S+", message.body).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_double_opt_in_emails_a_link_and_opening_it_confirms_the_consent(
    client, rep, django_capture_on_commit_callbacks
):
    form = make_form()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, form, **GOOD, consent="1")
    assert "open the link in it to confirm" in response.content.decode()
    lead = Lead.objects.get()
    assert lead.consent_requested_at is not None and not lead.marketing_consent
    (message,) = mail.outbox
    assert message.to == ["mei.chen@example.com"] and "Mei Chen" in message.body and "7 days" in message.body
    link = consent_link()
    assert link.startswith("/sales/f/consent/")
    payload = link.split("/")[4].split(":")[0]
    assert b"mei.chen" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))  # not shown in the link
    # Opening the link (as a mail scanner would) only shows the button.
    response = client.get(link)
    assert response.status_code == 200 and 'data-testid="web-form-confirm"' in response.content.decode()
    lead.refresh_from_db()
    assert not lead.marketing_consent and lead.consent_confirmed_at is None
    response = client.post(link)
    assert response.status_code == 200 and "Thank you for confirming" in response.content.decode()
    lead.refresh_from_db()
    assert lead.marketing_consent and lead.consent_confirmed_at is not None
    change = journal_entries(lead).last()
    assert change.action == "update" and "marketing_consent" in change.changes
    # Opening it again changes nothing more.
    confirmed_at = lead.consent_confirmed_at
    assert client.post(link).status_code == 200
    assert "Thank you for confirming" in client.get(link).content.decode()
    lead.refresh_from_db()
    assert lead.consent_confirmed_at == confirmed_at


def test_without_the_click_consent_stays_off(client, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, make_form(), **GOOD, consent="1")
    lead = Lead.objects.get()
    assert len(mail.outbox) == 1 and not lead.marketing_consent and lead.consent_confirmed_at is None


def test_the_email_and_the_confirmation_speak_the_visitors_language(client, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, make_form(), **GOOD, consent="1", _lang="zh-hans")
    link = consent_link()
    assert "lang=zh-hans" in link
    assert '<html lang="zh-hans">' in client.get(link).content.decode()


def test_an_unticked_box_sends_no_email(client, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, make_form(), **GOOD)
    assert not mail.outbox and Lead.objects.get().consent_requested_at is None


def test_a_single_opt_in_form_gives_consent_at_once_when_ticked(client, rep, django_capture_on_commit_callbacks):
    form = make_form(double_opt_in=False, consent_text="Send me news")
    assert "Send me news" in client.get(reverse("sales:web_form_page", args=[form.token])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, form, **GOOD, consent="1")
    lead = Lead.objects.get()
    assert lead.marketing_consent and lead.consent_confirmed_at is not None and not mail.outbox


def test_double_opt_in_needs_the_email_address(client, rep):
    form = make_form(required_fields=[])
    response = post(client, form, first_name="Mei", phone="+86 138 0013 8000", consent="1")
    assert response.status_code == 400
    assert "we send the confirmation there" in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda token: token[:-3] + ("abc" if not token.endswith("abc") else "xyz"), "not valid"),
        (lambda token: "nonsense", "not valid"),
    ],
)
def test_a_tampered_link_is_refused_plainly_and_changes_nothing(client, rep, spoil, message):
    post(client, make_form(), **GOOD, consent="1")
    lead = Lead.objects.get()
    token = services.consent_token(lead)
    for send in (client.get, client.post):
        response = send(reverse("sales:web_form_consent", args=[spoil(token)]))
        assert response.status_code == 400 and message in response.content.decode()
    lead.refresh_from_db()
    assert not lead.marketing_consent and lead.consent_confirmed_at is None


def test_an_expired_link_is_refused_plainly_and_changes_nothing(client, rep, monkeypatch):
    post(client, make_form(), **GOOD, consent="1")
    lead = Lead.objects.get()
    eight_days_ago = time.time() - 8 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_ago)
    token = services.consent_token(lead)
    monkeypatch.undo()
    response = client.post(reverse("sales:web_form_consent", args=[token]))
    assert response.status_code == 400 and "expired" in response.content.decode()
    lead.refresh_from_db()
    assert not lead.marketing_consent and lead.consent_confirmed_at is None


def test_a_link_for_another_address_is_refused(client, rep):
    post(client, make_form(), **GOOD, consent="1")
    lead = Lead.objects.get()
    token = services.consent_token(lead)
    Lead.objects.filter(pk=lead.pk).update(email="someone.else@example.com")
    response = client.post(reverse("sales:web_form_consent", args=[token]))
    assert response.status_code == 400 and "no longer valid" in response.content.decode()
    assert not Lead.objects.get().marketing_consent


# --- addresses --------------------------------------------------------------------------------------------------------


@override_settings(WEB_FORM_RATE="2/h", AXES_IPWARE_PROXY_COUNT=1)
def test_behind_a_reverse_proxy_each_visitor_has_their_own_limit(client, rep):
    form = make_form(double_opt_in=False)

    def send(visitor: str, number: int):
        fields = {**GOOD, "email": f"v{number}@example.com"}
        # The proxy appends the address it saw; what the visitor claimed before it does not count.
        return post(client, form, ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{number}, {visitor}", **fields)

    assert [send("198.51.100.1", n).status_code for n in range(3)] == [200, 200, 429]
    assert send("198.51.100.2", 4).status_code == 200
    assert Lead.objects.count() == 3


def test_an_ipv6_visitor_is_counted_per_network():
    class Request:
        META = {"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"}

    assert protection.client_address("g", Request()) == "2001:db8:1:2::/64"
    Request.META = {"REMOTE_ADDR": "203.0.113.9"}
    assert protection.client_address("g", Request()) == "203.0.113.9"
