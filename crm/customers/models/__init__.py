"""Customer data, split by sub-domain."""

from .activities import Activity, CalendarFeed, Task
from .companies import Company, Tag
from .contacts import Contact, ContactEmail, ContactPhone

__all__ = ["Activity", "CalendarFeed", "Company", "Contact", "ContactEmail", "ContactPhone", "Tag", "Task"]
