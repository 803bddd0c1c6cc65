"""Customer data, split by sub-domain."""

from .companies import Company, Tag
from .contacts import Contact, ContactEmail, ContactPhone

__all__ = ["Company", "Contact", "ContactEmail", "ContactPhone", "Tag"]
