"""Emailing a quote to its contact: the message with the PDF attached, the quote marked sent, the email
logged on the contact and the deal; a contact without an address, or a failing mail server, changes
nothing."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.core.testing import api_client
from crm.customers.activities.selectors import related_activities
from crm.customers.models import Activity
from crm.sales.choices import QuoteStatus
from crm.sales.quotes import services
from crm.sales.tests.test_quotes_helpers import deal_with_contact, quote, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(roles):
    return seller(first_name="Grace", last_name="Hopper", email="grace@example.com")


def test_send_mails_the_pdf_marks_the_quote_sent_and_logs_the_email(me, settings):
    settings.CRM_COMPANY_NAME = "Northwind"
    deal, contact = deal_with_contact(me)
    created = quote(me, deal)
    services.quote_send(actor=me, quote=created, subject="Your quote", message="Hello Ada,\n\nattached.")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"] and message.reply_to == ["grace@example.com"]
    assert message.subject == "Your quote" and "attached." in message.body
    ((name, content, mimetype),) = message.attachments
    assert name == f"{created.number}.pdf" and mimetype == "application/pdf" and content.startswith(b"%PDF-")
    created.refresh_from_db()
    assert created.status == QuoteStatus.SENT and created.sent_at is not None and created.version == 2
    activity = Activity.objects.get()
    assert (activity.kind, activity.direction, activity.subject) == ("email", "outbound", "Your quote")
    assert activity.contact == contact and activity.owner == me
    assert list(related_activities(obj=deal)) == [activity]


def test_sending_again_is_allowed_and_logged_again(me):
    deal, _contact = deal_with_contact(me)
    created = quote(me, deal)
    services.quote_send(actor=me, quote=created, subject="One", message="First")
    services.quote_send(actor=me, quote=created, subject="Two", message="Second")
    assert len(mail.outbox) == 2 and Activity.objects.count() == 2


def test_a_contact_without_an_email_is_a_clear_error_and_nothing_changes(me):
    deal, _contact = deal_with_contact(me, email="")
    created = quote(me, deal)
    with pytest.raises(ValidationError) as excinfo:
        services.quote_send(actor=me, quote=created, subject="Quote", message="Hi")
    assert "has no email address" in excinfo.value.message_dict["contact"][0]
    created.refresh_from_db()
    assert created.status == QuoteStatus.DRAFT and not mail.outbox and not Activity.objects.exists()


def test_a_quote_without_a_contact_or_lines_cannot_be_sent(me):
    deal, _contact = deal_with_contact(me)
    created = quote(me, deal, contact=None, lines=[])
    with pytest.raises(ValidationError) as excinfo:
        services.quote_send(actor=me, quote=created, subject="", message="Hi")
    errors = excinfo.value.message_dict
    assert set(errors) == {"contact", "lines", "subject"}
    assert not mail.outbox


def test_a_failing_mail_server_leaves_the_quote_unsent(me):
    deal, _contact = deal_with_contact(me)
    created = quote(me, deal)
    with (
        mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("down")),
        pytest.raises(OSError),
    ):
        services.quote_send(actor=me, quote=created, subject="Quote", message="Hi")
    created.refresh_from_db()
    assert created.status == QuoteStatus.DRAFT and created.sent_at is None
    assert not Activity.objects.exists()


def test_the_send_page_proposes_a_subject_and_message_and_sends(me, client, settings):
    settings.CRM_COMPANY_NAME = "Northwind"
    deal, _contact = deal_with_contact(me)
    created = quote(me, deal, title="CRM rollout")
    client.force_login(me)
    url = reverse("sales:quote_send", args=[created.pk])
    page = client.get(url).content.decode()
    assert f"Quote {created.number} from Northwind" in page
    assert "Dear Ada Lovelace," in page and "CRM rollout" in page and "Grace Hopper" in page
    response = client.post(url, {"subject": "Our offer", "message": "Dear Ada", "version": created.version})
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert mail.outbox[0].subject == "Our offer"


def test_the_send_page_shows_the_missing_address(me, client):
    deal, _contact = deal_with_contact(me, email="")
    created = quote(me, deal)
    client.force_login(me)
    response = client.post(
        reverse("sales:quote_send", args=[created.pk]), {"subject": "Quote", "message": "Hi", "version": 1}
    )
    assert response.status_code == 400
    assert "has no email address" in response.content.decode()
    assert not mail.outbox


def test_send_through_the_api_uses_the_proposed_texts(me):
    deal, _contact = deal_with_contact(me)
    created = quote(me, deal)
    response = api_client(me).post(reverse("sales-api:quote-send", args=[created.pk]), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    assert mail.outbox[0].subject.startswith(f"Quote {created.number} from ")
    assert mail.outbox[0].attachments[0][0] == f"{created.number}.pdf"


def test_sending_needs_the_edit_permission_and_the_scope(roles, client):
    owner = seller(scope="own")
    deal, _contact = deal_with_contact(owner)
    created = quote(owner, deal)
    reader = seller(actions=("view",))
    stranger = seller(scope="own")
    client.force_login(reader)
    assert (
        client.post(reverse("sales:quote_send", args=[created.pk]), {"subject": "x", "message": "y"}).status_code == 403
    )
    assert api_client(reader).post(reverse("sales-api:quote-send", args=[created.pk])).status_code == 403
    client.force_login(stranger)
    assert client.get(reverse("sales:quote_send", args=[created.pk])).status_code == 404
    assert api_client(stranger).post(reverse("sales-api:quote-send", args=[created.pk])).status_code == 404
    assert not mail.outbox
