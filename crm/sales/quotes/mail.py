"""The email that carries a quote to its contact: default subject and message, and the message
itself with the PDF attached."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import formats
from django.utils.translation import gettext as _

from crm.core.money import format_money

from ..models import Quote
from .display import company_name


def sender_name(user: Any) -> str:
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or str(getattr(user, "username", "") or "")


def default_subject(quote: Quote) -> str:
    return _("Quote %(number)s from %(company)s") % {"number": quote.number, "company": company_name()}


def default_message(quote: Quote, sender: Any) -> str:
    contact = quote.contact
    greeting = _("Dear %(name)s,") % {"name": contact.name} if contact is not None else _("Hello,")
    about = quote.title or quote.deal.name
    body = _("Please find attached our quote %(number)s for %(about)s, with a total of %(total)s.") % {
        "number": quote.number,
        "about": about,
        "total": format_money(quote.total, quote.currency),
    }
    if quote.valid_until:
        body += " " + _("It is valid until %(date)s.") % {"date": formats.date_format(quote.valid_until, "DATE_FORMAT")}
    closing = _("We look forward to hearing from you.")
    regards = _("Kind regards,")
    signature = sender_name(sender)
    return f"{greeting}\n\n{body}\n\n{closing}\n\n{regards}\n{signature}\n{company_name()}"


def attachment_name(quote: Quote) -> str:
    return f"{quote.number}.pdf"


def quote_email(*, quote: Quote, sender: Any, subject: str, message: str) -> EmailMessage:
    """The message to the quote's contact (replies go to the sender), with the quote's PDF attached."""
    assert quote.contact is not None and quote.contact.email
    reply_to = [sender.email] if getattr(sender, "email", "") else None
    email = EmailMessage(
        subject=subject,
        body=message,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[quote.contact.email],
        reply_to=reply_to,
    )
    from .pdf import render_quote_pdf  # reportlab: loaded only when a PDF is made

    email.attach(attachment_name(quote), render_quote_pdf(quote), "application/pdf")
    return email
