"""vCard files: contacts written as vCard 3.0 (RFC 2426, which every address book reads), and
cards of version 3.0 or 4.0 (RFC 6350) read back, with the ``vobject`` library.

Written: FN, N, EMAIL, TEL, ORG, TITLE, ADR, BDAY, UID and REV. Read: the same, one card at a time
from a stream (a file of many cards is never held in memory as a whole).
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

import vobject
from django.conf import settings
from django.utils.translation import gettext as _

from crm.core.crypto import masking

from ..choices import ChannelKind
from ..models import Contact
from ..models.contacts import compose_contact_name
from .importing import SourceRow
from .reading import FileInfo, ImportFileError, binary, count_within_limit

VERSION = "3.0"
MAX_CARD_CHARS = 2_000_000
_TEL_TYPES = {ChannelKind.MOBILE: "CELL", ChannelKind.WORK: "WORK", ChannelKind.HOME: "HOME"}


def contact_uid(contact: Contact) -> str:
    """A stable identifier of the contact in this CRM (the same in every export)."""
    base = getattr(settings, "CRM_BASE_URL", "") or "crm"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base}/contacts/{contact.pk}')}"


def contact_vcard(contact: Contact, *, emails: Iterable[Any] = (), phones: Iterable[Any] = ()) -> str:
    """One contact as a vCard 3.0. ``emails`` and ``phones`` are its ContactEmail/ContactPhone rows."""
    card = vobject.vCard()
    card.add("uid").value = contact_uid(contact)
    card.add("fn").value = contact.name or contact.compose_name()
    card.add("n").value = vobject.vcard.Name(family=contact.last_name, given=contact.first_name)
    emails = list(emails) or ([_Channel(contact.email, "work", True)] if contact.email else [])
    for item in sorted(emails, key=lambda e: not e.is_primary):
        line = card.add("email")
        line.value = item.email
        line.type_param = ["INTERNET", "HOME" if item.kind == ChannelKind.HOME else "WORK"] + (
            ["PREF"] if item.is_primary else []
        )
    reveal = masking.visible()  # no phone numbers, street or birthday for a role that may not see them
    if reveal:
        masking.note_read(contact)
    phones = (list(phones) or ([_Channel(contact.phone, "mobile", True)] if contact.phone else [])) if reveal else []
    for item in sorted(phones, key=lambda p: not p.is_primary):
        line = card.add("tel")
        line.value = getattr(item, "number", "")
        line.type_param = [_TEL_TYPES.get(item.kind, "VOICE")] + (["PREF"] if item.is_primary else [])
    if contact.company_id and contact.company is not None:
        card.add("org").value = [contact.company.name]
    if contact.title:
        card.add("title").value = contact.title
    street, postal_code = (contact.street, contact.postal_code) if reveal else ("", "")
    if any((street, contact.city, contact.region, postal_code, contact.country)):
        adr = card.add("adr")
        adr.value = vobject.vcard.Address(
            street=street,
            city=contact.city,
            region=contact.region,
            code=postal_code,
            country=contact.country,
        )
        adr.type_param = ["WORK"]
    if contact.date_of_birth and reveal:
        card.add("bday").value = contact.date_of_birth.isoformat()
    if contact.updated_at:
        card.add("rev").value = contact.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(card.serialize())


class _Channel:
    def __init__(self, value: str, kind: str, is_primary: bool) -> None:
        self.email = self.number = value
        self.kind = kind
        self.is_primary = is_primary


# --- reading ---------------------------------------------------------------------------------------------


def split_cards(fileobj: Any, info: FileInfo) -> Iterator[tuple[int, str]]:
    """(card number, text) of each BEGIN:VCARD … END:VCARD block, read line by line."""
    stream: IO[bytes] = binary(fileobj)
    text = io.TextIOWrapper(stream, encoding=info.encoding or "utf-8", newline="", errors="replace")
    number = 0
    lines: list[str] | None = None
    size = 0
    try:
        for line in text:
            stripped = line.strip().upper()
            if stripped == "BEGIN:VCARD" and lines is None:
                lines, size = [line], len(line)
                continue
            if lines is None:
                continue
            lines.append(line)
            size += len(line)
            if stripped == "END:VCARD":
                number += 1
                yield number, "".join(lines)
                lines, size = None, 0
            elif size > MAX_CARD_CHARS:
                number += 1
                yield number, ""  # too large: reported as a problem of this card
                lines, size = None, 0
        if lines is not None:  # the file ends inside a card
            number += 1
            yield number, ""
    finally:
        with contextlib.suppress(ValueError):  # the file may already be closed
            text.detach()


def count_cards(fileobj: Any, info: FileInfo) -> int:
    """The number of cards, read before anything is imported; more than one import may hold (as for
    a table, ``CRM_IMPORT_MAX_ROWS``) raises ImportFileError."""
    return count_within_limit(split_cards(fileobj, info))


def card_rows(fileobj: Any, info: FileInfo) -> Iterator[SourceRow]:
    """Each card as a row of import targets; a card that cannot be read comes with its problem."""
    found = False
    for number, text in split_cards(fileobj, info):
        found = True
        if not text:
            yield SourceRow(
                number=number, cells=["", "", ""], values={}, problems=[_("This card is incomplete or too large.")]
            )
            continue
        try:
            card = vobject.readOne(text, ignoreUnreadable=True)
        except Exception as exc:  # vobject raises several kinds of errors for malformed text
            yield SourceRow(
                number=number,
                cells=["", "", ""],
                values={},
                problems=[_("This card cannot be read: %(error)s") % {"error": str(exc)[:200]}],
            )
            continue
        values = card_values(card)
        cells = [values.get("full_name") or _display_name(values), values.get("email", ""), values.get("mobile", "")]
        yield SourceRow(number=number, cells=cells, values=values)
    if not found:
        raise ImportFileError(_("The file holds no vCard (no BEGIN:VCARD … END:VCARD)."))


def _display_name(values: dict[str, str]) -> str:
    return compose_contact_name("", values.get("first_name"), values.get("last_name"))


def _text(card: Any, name: str) -> str:
    item = card.contents.get(name)
    if not item:
        return ""
    value = item[0].value
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if v)
    return str(value or "").strip()


def card_values(card: Any) -> dict[str, str]:
    """The import targets of one parsed vCard."""
    values: dict[str, str] = {}
    given = family = ""
    if "n" in card.contents:
        name = card.contents["n"][0].value
        given = _join(getattr(name, "given", ""))
        family = _join(getattr(name, "family", ""))
    formatted = _text(card, "fn")
    values["first_name"], values["last_name"] = given, family
    if formatted and formatted != f"{given} {family}".strip():
        values["full_name"] = formatted
    emails = sorted(card.contents.get("email", []), key=lambda line: not _has_type(line, "PREF"))
    addresses = [str(line.value).strip() for line in emails if str(line.value).strip()]
    if addresses:
        values["email"] = addresses[0]
        values["email_other"] = "; ".join(addresses[1:])
    mobile, work, other = [], [], []
    for line in sorted(card.contents.get("tel", []), key=lambda line: not _has_type(line, "PREF")):
        number = str(line.value).strip().removeprefix("tel:")
        if not number:
            continue
        if _has_type(line, "CELL"):
            mobile.append(number)
        elif _has_type(line, "WORK"):
            work.append(number)
        else:
            other.append(number)
    for key, numbers in (("mobile", mobile), ("phone", work), ("phone_other", other)):
        if numbers:
            values[key] = "; ".join(numbers)
    org = card.contents.get("org")
    if org:
        value = org[0].value
        values["company"] = str(value[0] if isinstance(value, list) and value else value or "").strip()
    values["title"] = _text(card, "title")
    if "adr" in card.contents:
        adr = card.contents["adr"][0].value
        values["street"] = _join(getattr(adr, "street", ""))
        values["city"] = _join(getattr(adr, "city", ""))
        values["region"] = _join(getattr(adr, "region", ""))
        values["postal_code"] = _join(getattr(adr, "code", ""))
        values["country"] = _join(getattr(adr, "country", ""))
    birthday = _text(card, "bday")
    if birthday and not birthday.startswith("--"):  # a birthday without a year is left out
        values["date_of_birth"] = birthday[:10] if "T" in birthday else birthday
    return {key: value for key, value in values.items() if value}


def _join(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v).strip()
    return str(value or "").strip()


def _has_type(line: Any, wanted: str) -> bool:
    types = [str(t).upper() for t in line.params.get("TYPE", [])]
    flattened = {part for t in types for part in t.split(",")}
    return wanted in flattened or (wanted == "PREF" and "PREF" in {k.upper() for k in line.params})
