from django.db import models
from django.utils.translation import gettext_lazy as _


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Subscriber")
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    CHURNED = "churned", _("Churned")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    MICRO = "1-10", _("1–10 employees")
    SMALL = "11-50", _("11–50 employees")
    MEDIUM = "51-200", _("51–200 employees")
    LARGE = "201-1000", _("201–1,000 employees")
    ENTERPRISE = "1001-5000", _("1,001–5,000 employees")
    HUGE = "5000+", _("More than 5,000 employees")


class ContactSource(models.TextChoices):
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    ADVERTISING = "advertising", _("Advertising")
    COLD_OUTREACH = "cold_outreach", _("Cold outreach")
    PARTNER = "partner", _("Partner")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class ChannelKind(models.TextChoices):
    """The kind of an email address or a phone number."""

    WORK = "work", _("Work")
    HOME = "home", _("Home")
    MOBILE = "mobile", _("Mobile")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")


class ActivityDirection(models.TextChoices):
    """Who started a call or wrote an email: the customer (inbound) or we (outbound)."""

    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left voicemail")
    BUSY = "busy", _("Busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class CustomFieldEntity(models.TextChoices):
    COMPANY = "company", _("Company")
    CONTACT = "contact", _("Contact")


class CustomFieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("One choice")
    MULTI_CHOICE = "multi_choice", _("Several choices")
    URL = "url", _("URL")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Not a duplicate")
    MERGED = "merged", _("Merged")
