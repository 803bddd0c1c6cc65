"""Personal data: which records hold what about a person, so that privacy requests (export, erase)
cover every module without the platform knowing any of them.

A module declares, in its ``AppConfig.ready()``, the kinds of person it knows (``Subject``: a contact,
a lead, later a portal user or a survey respondent) and, for each kind, the rows it holds about one
(``PersonalData``)::

    privacy.register_subject(Subject("contact", _("Contact"), Contact, find_by_email=..., search=..., emails=...))
    privacy.register(PersonalData("contact", ContactEmail, find=lambda c: c.emails.all(), erase=DELETE))

Erasing a row either anonymises it in place (``ANONYMISE`` with the values that replace the personal
ones; amounts, dates and counts stay), deletes it (``DELETE``: a row only about the person, such as
their email addresses), or keeps it (``KEEP``: exported, untouched; a deal stays with its amount).
Files attached to declared rows and the journal's copies of their values are covered by the
privacy module itself.

Retention rules delete or anonymise records inactive for a set period; a module offers a record
type to them with ``register_retention(RetentionTarget(...))``.

The suppression list (emails of erased people, kept only as keyed hashes) is owned by the module
that registers its checker here; with no checker registered nothing is suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

KEEP = "keep"
ANONYMISE = "anonymise"
DELETE = "delete"
ERASE_MODES = (KEEP, ANONYMISE, DELETE)

_EMAIL_SALT = "crm.core.privacy.email"


def erased_name() -> str:
    """What an erased person's name becomes (in the language active when erasing)."""
    return gettext("Erased person")


def erased_text() -> str:
    """What the texts about an erased person become."""
    return gettext("Erased at the person's request")


def suppressed_message() -> str:
    """Why an import refuses a row with a suppressed email address."""
    return gettext("This email address belongs to a person who asked to be erased; it may not be imported again.")


@dataclass(frozen=True)
class Subject:
    """A kind of person a privacy request can be about.

    ``find_by_email(email)`` and ``search(query)`` return querysets of ``model`` (unscoped: a privacy
    officer must find anyone); ``emails(obj)`` lists the person's addresses, which an erasure puts on
    the suppression list.
    """

    kind: str
    label: Any
    model: type[models.Model]
    find_by_email: Callable[[str], models.QuerySet[Any]]
    search: Callable[[str], models.QuerySet[Any]]
    emails: Callable[[Any], list[str]]


@dataclass(frozen=True)
class PersonalData:
    """Rows of ``model`` about one person of kind ``subject``.

    ``find(person)`` returns them as a queryset of ``model``. ``export(rows)`` turns them into plain
    JSON values (every concrete field when left out). ``anonymise`` maps fields to the values that
    replace them (a callable is called at erasure time). ``journal_link`` names a field whose old or
    new value in the journal's entries of ``model`` is the person's id: it finds the journal's copies
    of rows deleted before the request (an email address removed last year).
    """

    subject: str
    model: type[models.Model]
    find: Callable[[Any], models.QuerySet[Any]]
    erase: str = KEEP
    anonymise: Mapping[str, Any] = field(default_factory=dict)
    export: Callable[[Iterable[Any]], list[dict[str, Any]]] | None = None
    journal_link: str = ""
    key: str = ""
    order: int = 100

    def __post_init__(self) -> None:
        if self.erase not in ERASE_MODES:
            raise ValueError(f"erase must be one of {ERASE_MODES}")
        if self.erase == ANONYMISE and not self.anonymise:
            raise ValueError("name the fields an anonymising erasure replaces")
        if not self.key:
            object.__setattr__(self, "key", f"{self.subject}:{self.model._meta.label_lower}")

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def model_label(self) -> str:
        return str(self.model._meta.label_lower)

    def anonymised_values(self) -> dict[str, Any]:
        return {name: value() if callable(value) else value for name, value in self.anonymise.items()}

    def export_rows(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        if self.export is not None:
            return self.export(rows)
        return [row_to_dict(row) for row in rows]


def row_to_dict(obj: models.Model) -> dict[str, Any]:
    """Every concrete field of a row, as plain JSON values (foreign keys as ids)."""
    from .journal import to_json

    return {f.attname: to_json(f.value_from_object(obj)) for f in obj._meta.concrete_fields}


@dataclass(frozen=True)
class RetentionTarget:
    """A record type retention rules may delete or anonymise once inactive for a set period.

    ``records()`` returns the records considered (unscoped: a converted lead can be left out here);
    ``inactive_since()`` an expression of the moment each one was last active (a field or an
    annotation). ``actions`` lists the modes offered (``DELETE``, ``ANONYMISE``); anonymising runs
    the privacy erasure of the person of kind ``subject`` (the anonymisers its modules declared),
    without putting their email on the suppression list. ``before_delete(ids)`` removes what belongs to
    those records alone (a lead's own activities) just before they are deleted.
    """

    key: str
    label: Any
    model: type[models.Model]
    records: Callable[[], models.QuerySet[Any]]
    inactive_since: Callable[[], Any]
    actions: tuple[str, ...] = (DELETE, ANONYMISE)
    subject: str = ""
    before_delete: Callable[[list[Any]], None] | None = None

    def __post_init__(self) -> None:
        if not self.actions or any(action not in (ANONYMISE, DELETE) for action in self.actions):
            raise ValueError("retention actions are delete and anonymise")
        if ANONYMISE in self.actions and not self.subject:
            raise ValueError("name the privacy subject whose erasure anonymises the records")


class PrivacyRegistry:
    def __init__(self) -> None:
        self.subjects: dict[str, Subject] = {}
        self.data: dict[str, PersonalData] = {}
        self.retention: dict[str, RetentionTarget] = {}
        self._suppression: Callable[[list[str]], set[str]] | None = None

    def register_subject(self, subject: Subject) -> None:
        self.subjects[subject.kind] = subject

    def register(self, declaration: PersonalData) -> None:
        self.data[declaration.key] = declaration

    def register_retention(self, target: RetentionTarget) -> None:
        self.retention[target.key] = target

    def declarations(self, subject: str) -> list[PersonalData]:
        found = [d for d in self.data.values() if d.subject == subject]
        return sorted(found, key=lambda d: (d.order, d.key))

    def subject_of(self, obj: Any) -> Subject | None:
        for subject in self.subjects.values():
            if isinstance(obj, subject.model):
                return subject
        return None

    def register_suppression(self, checker: Callable[[list[str]], set[str]] | None) -> None:
        """``checker(hashes)`` answers which of the given email hashes are suppressed."""
        self._suppression = checker

    def suppressed(self, emails: Iterable[str]) -> set[str]:
        """Of ``emails``, the normalised addresses that are on the suppression list."""
        wanted = {normalise_email(email) for email in emails if email and email.strip()}
        if not wanted or self._suppression is None:
            return set()
        hashes = {email_hash(email): email for email in wanted}
        return {hashes[h] for h in self._suppression(list(hashes)) if h in hashes}


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def email_hash(email: str) -> str:
    """A keyed hash of an email address (HMAC with a key derived from ``SECRET_KEY``): the list of
    erased people's addresses never holds the addresses themselves."""
    return salted_hmac(_EMAIL_SALT, normalise_email(email), algorithm="sha256").hexdigest()


privacy = PrivacyRegistry()


def register_subject(subject: Subject) -> None:
    privacy.register_subject(subject)


def register(declaration: PersonalData) -> None:
    privacy.register(declaration)


def register_retention(target: RetentionTarget) -> None:
    privacy.register_retention(target)


def is_suppressed(email: str) -> bool:
    """Has this address been erased (so it must not be imported or signed up for marketing again)?"""
    return bool(email) and bool(privacy.suppressed([email]))


def suppressed(emails: Iterable[str]) -> set[str]:
    return privacy.suppressed(emails)
