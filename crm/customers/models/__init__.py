"""Customer data, split by sub-domain."""

from .activities import Activity, CalendarFeed, Task
from .companies import Company, Tag
from .contacts import Contact, ContactEmail, ContactPhone, PastCompany
from .custom_fields import CustomField
from .duplicates import DuplicateCandidate, Merge

__all__ = [
    "Activity",
    "CalendarFeed",
    "Company",
    "Contact",
    "ContactEmail",
    "ContactPhone",
    "CustomField",
    "DuplicateCandidate",
    "Merge",
    "PastCompany",
    "Tag",
    "Task",
]
