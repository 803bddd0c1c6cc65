"""Importing contacts: rows streamed from a file, checked, matched against existing contacts, and
written a batch at a time with bulk operations (journaled, with the path "import").

Policies, as the import page states them:

- bad rows are left out and listed with their reasons in a file of rejected rows; the good rows are
  imported. A file that cannot be read as a whole (empty, not a spreadsheet, unknown encoding,
  broken quotes) is refused before anything is written;
- a row that duplicates an existing contact (``duplicates``) is skipped, updates that contact, or
  creates a new one anyway;
- an update only fills in what the row holds: empty cells never clear a value, and email addresses
  and phone numbers are added, never removed. Values are compared first, so importing the same
  file again changes nothing and writes nothing to the journal;
- custom field cells are checked by type like any value (a bad one rejects the row); a new contact
  gets the fields' defaults, and a row that would create a contact without a value of a required
  field is rejected.

Each batch is one transaction that also records how far the import got, so a job whose worker
died carries on after the last saved batch instead of importing rows twice.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import privacy
from crm.core.exports import safe_cell
from crm.core.rows import insert_rows

from ..choices import ContactSource
from ..custom_fields.values import missing_required, with_defaults
from ..models import Company, Contact, ContactEmail, ContactPhone
from ..models.contacts import compose_contact_name
from .cleaning import CleanRow, RowCleaner
from .duplicates import Candidate, company_key, find_companies, find_duplicates, name_keys

DUPLICATE_POLICIES = ("skip", "update", "create")
BATCH_SIZE = 1000


@dataclass
class SourceRow:
    """One row of the file: its number as the person sees it, its cells, and the cells by target."""

    number: int
    cells: list[str]
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    companies_created: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def map_rows(header: list[str], rows: Iterable[tuple[int, list[str]]], mapping: list[str]) -> Iterator[SourceRow]:
    """Rows of a table as ``SourceRow``: cells by the target of their column."""
    width = len(header)
    columns = [(index, target) for index, target in enumerate(mapping) if target and index < width]
    for number, cells in rows:
        problems = []
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            problems.append(
                _("This row has %(cells)d values but the header has %(columns)d columns.")
                % {"cells": len(cells), "columns": width}
            )
        values = {target: cells[index] if index < len(cells) else "" for index, target in columns}
        yield SourceRow(number=number, cells=cells, values=values, problems=problems)


class RejectedRows:
    """The rejected rows, written as they come to a temporary file (formula-safe CSV)."""

    def __init__(self, header: list[str], *, number_label: str | None = None) -> None:
        self.count = 0
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._text = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
        self._text.write("\ufeff")
        self._writer = csv.writer(self._text)
        self._writer.writerow([safe_cell(h) for h in [number_label or _("Row"), _("Problems"), *header]])

    def add(self, row: SourceRow, problems: list[str]) -> None:
        self.count += 1
        self._writer.writerow([row.number, " ".join(problems), *(safe_cell(cell) for cell in row.cells)])

    def save(self, job: Any, name: str) -> None:
        from crm.core.models import Job

        self._text.flush()
        self._file.seek(0)
        if job.result_file:
            job.result_file.delete(save=False)  # a resumed run replaces the earlier file
        job.result_file.save(name, File(self._file), save=False)
        Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)

    def close(self) -> None:
        self._text.close()


@dataclass
class _Pending:
    """A contact this batch creates or changes, as plain values by attname, with the channels it adds."""

    values: dict[str, Any]
    new: bool
    pk: int | None = None
    company_name: str | None = None
    original: dict[str, Any] = field(default_factory=dict)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    add_emails: list[tuple[str, str, bool]] = field(default_factory=list)  # (address, kind, primary)
    add_phones: list[tuple[str, str, bool]] = field(default_factory=list)  # (E.164 number, kind, primary)

    @property
    def name(self) -> str:
        return str(self.values.get("name") or "")

    def changed_fields(self) -> list[str]:
        return [name for name, value in self.original.items() if self.values.get(name) != value]


# The values an import reads, compares and writes, by attname.
TRACKED = (
    "full_name",
    "first_name",
    "last_name",
    "name",
    "title",
    "company_id",
    "lifecycle_stage",
    "source",
    "date_of_birth",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "email",
    "phone",
    "custom",
)


class ContactImporter:
    """Imports batches of ``SourceRow`` for one person, with one duplicates policy."""

    def __init__(self, *, user: Any, duplicates: str) -> None:
        if duplicates not in DUPLICATE_POLICIES:
            raise ValueError(duplicates)
        self.user = user
        self.duplicates = duplicates
        self.cleaner = RowCleaner()
        self.counts = Counts()

    # --- checks only -----------------------------------------------------------------------------------

    def check(self, rows: list[SourceRow]) -> list[tuple[SourceRow, CleanRow | None, list[str]]]:
        cleaned = [(row, *self.cleaner.clean(row.values)) for row in rows]
        # One look at the suppression list for the whole batch.
        suppressed = privacy.suppressed(
            email for _row, clean, _problems in cleaned if clean is not None for email, _kind in clean.emails
        )
        checked = []
        for row, clean, found in cleaned:
            problems = row.problems + found
            if clean is not None and any(privacy.normalise_email(email) in suppressed for email, _kind in clean.emails):
                problems = [*problems, privacy.suppressed_message()]
            checked.append((row, None if problems else clean, problems))
        return checked

    # --- one batch -----------------------------------------------------------------------------------------

    def import_batch(self, rows: list[SourceRow], *, write: bool = True) -> list[tuple[SourceRow, list[str]]]:
        """Import one batch (in the caller's transaction); returns the rejected rows and their problems.

        With ``write=False`` the rows are only checked (for a batch an earlier run already saved).
        """
        rejected: list[tuple[SourceRow, list[str]]] = []
        good: list[tuple[SourceRow, CleanRow]] = []
        for row, clean, problems in self.check(rows):
            if clean is None:
                rejected.append((row, problems))
            else:
                good.append((row, clean))
        if not write:
            self.counts.rejected += len(rejected)
            return rejected

        companies = find_companies(user=self.user, names=[clean.company for _row, clean in good if clean.company])
        candidates = [
            Candidate(
                emails=tuple(email for email, _kind in clean.emails),
                phones=tuple(number for number, _kind in clean.phones),
                name=clean.name,
                company_id=companies.get(company_key(clean.company)) if clean.company else None,
            )
            for _row, clean in good
        ]
        matches = (
            find_duplicates(user=self.user, candidates=candidates)
            if self.duplicates != "create"
            else [None] * len(good)
        )
        existing = self._load(sorted({m.contact_id for m in matches if m is not None}))
        editable = self._editable(list(existing)) if self.duplicates == "update" else set()

        definitions = list(self.cleaner.custom.values())
        defaults = with_defaults(definitions, {})  # a new contact's custom values, before its row's own
        created: dict[str, _Pending] = {}  # in-file keys -> contacts this batch creates
        outcome: list[tuple[_Pending | None, str]] = []  # per good row: its contact, and "new"/"update"/"skip"
        new_companies: dict[str, str] = {}
        for (row, clean), match in zip(good, matches, strict=True):
            pending = existing.get(match.contact_id) if match is not None else None
            keys = self._keys(clean)
            if pending is None and self.duplicates != "create":
                pending = next((created[key] for key in keys if key in created), None)
            if pending is not None and self.duplicates == "skip":
                outcome.append((None, "skip"))
                continue
            if pending is not None and not pending.new and pending.pk not in editable:
                rejected.append(
                    (
                        row,
                        [
                            _("It matches the contact “%(name)s” (#%(id)s), which you may not edit.")
                            % {"name": pending.name, "id": pending.pk}
                        ],
                    )
                )
                continue
            if pending is None and definitions:
                missing = missing_required(definitions, {**defaults, **clean.custom})
                if missing:
                    rejected.append((row, [_required_problem(missing)]))
                    continue
            if clean.company and company_key(clean.company) not in companies:
                new_companies.setdefault(company_key(clean.company), clean.company)
            if pending is None:
                values = {
                    "owner_id": self.user.pk,
                    "source": str(ContactSource.IMPORT),
                    "custom": dict(defaults),
                }
                pending = _Pending(values=values, new=True)
                outcome.append((pending, "new"))
            else:
                outcome.append((pending, "update"))
            self._apply(pending, clean)
            if pending.new or self.duplicates != "create":
                for key in keys:
                    created.setdefault(key, pending)

        companies.update(self._create_companies(new_companies))
        for pending, _action in outcome:
            if pending is not None and pending.company_name is not None:
                pending.values["company_id"] = companies[company_key(pending.company_name)]
        self._save(outcome)
        self.counts.rejected += len(rejected)
        return rejected

    # --- steps ---------------------------------------------------------------------------------------------

    def _load(self, ids: list[int]) -> dict[int, _Pending]:
        if not ids:
            return {}
        loaded = {}
        for row in Contact.objects.filter(pk__in=ids).order_by().values("pk", *TRACKED):
            pk = row.pop("pk")
            loaded[pk] = _Pending(values=row, new=False, pk=pk, original=dict(row))
        for contact_id, email in ContactEmail.objects.filter(contact_id__in=ids).values_list("contact_id", "email"):
            loaded[contact_id].emails.add(email)
        for contact_id, number in ContactPhone.objects.filter(contact_id__in=ids).values_list("contact_id", "number"):
            loaded[contact_id].phones.add(number)
        for pending in loaded.values():
            if pending.values["email"]:
                pending.emails.add(pending.values["email"])
            if pending.values["phone"]:
                pending.phones.add(pending.values["phone"])
        return loaded

    def _editable(self, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        editable = Contact.objects.visible_to(self.user, action="edit").filter(pk__in=ids).order_by()
        return set(editable.values_list("pk", flat=True))

    @staticmethod
    def _keys(clean: CleanRow) -> list[str]:
        keys = [f"e:{email}" for email, _kind in clean.emails] + [f"p:{number}" for number, _kind in clean.phones]
        if clean.company and clean.name:
            keys.extend(f"n:{company_key(clean.company)}:{key}" for key in sorted(name_keys(clean.name)))
        return keys

    def _apply(self, pending: _Pending, clean: CleanRow) -> None:
        """Fill in what the row holds; never clear a value or remove an address."""
        values = pending.values
        values.update(clean.values)
        if clean.custom:
            current = values.get("custom")
            values["custom"] = {**(current if isinstance(current, dict) else {}), **clean.custom}  # a new dict
        if clean.company:
            pending.company_name = clean.company
        if pending.new or {"first_name", "last_name", "full_name"} & clean.values.keys():
            values["name"] = compose_contact_name(
                values.get("full_name"), values.get("first_name"), values.get("last_name")
            )
        for email, kind in clean.emails:
            if email in pending.emails:
                continue
            pending.emails.add(email)
            primary = not values.get("email")
            if primary:
                values["email"] = email
            pending.add_emails.append((email, kind, primary))
        for number, kind in clean.phones:
            if number in pending.phones:
                continue
            pending.phones.add(number)
            primary = not values.get("phone")
            if primary:
                values["phone"] = number
            pending.add_phones.append((number, kind, primary))

    def _create_companies(self, names: dict[str, str]) -> dict[str, int]:
        if not names:
            return {}
        companies = [Company(name=name, owner=self.user) for name in names.values()]
        Company.objects.bulk_create(companies)
        self.counts.companies_created += len(companies)
        return {company_key(company.name): company.pk for company in companies}

    def _save(self, outcome: list[tuple[_Pending | None, str]]) -> None:
        new: list[_Pending] = []
        changed: dict[int, _Pending] = {}
        seen: set[int] = set()
        for pending, action in outcome:
            if action == "skip" or pending is None:
                self.counts.skipped += 1
                continue
            if pending.new:
                if id(pending) not in seen:
                    seen.add(id(pending))
                    new.append(pending)
                    self.counts.created += 1
                else:
                    self.counts.updated += 1  # a later row of the file about a contact it created
                continue
            if pending.pk is not None and (pending.changed_fields() or pending.add_emails or pending.add_phones):
                changed[pending.pk] = pending
        for pending, action in outcome:
            if pending is not None and not pending.new and action == "update":
                if pending.pk in changed:
                    self.counts.updated += 1
                else:
                    self.counts.unchanged += 1

        if new:
            ids = insert_rows(Contact, [p.values for p in new], labels=[p.name for p in new])
            for pending, pk in zip(new, ids, strict=True):
                pending.pk = pk
        # A contact's entry in the journal records its primary address and number; the rows of its
        # addresses and numbers are not journaled one by one, as on the contact form.
        pendings = _unique([p for p, _a in outcome if p is not None])
        emails = [
            {"contact_id": p.pk, "email": email, "kind": kind, "is_primary": primary}
            for p in pendings
            for email, kind, primary in p.add_emails
        ]
        phones = [
            {"contact_id": p.pk, "number": number, "kind": kind, "is_primary": primary}
            for p in pendings
            for number, kind, primary in p.add_phones
        ]
        insert_rows(ContactEmail, emails, journaled=False)
        insert_rows(ContactPhone, phones, journaled=False)
        if changed:
            # One UPDATE writes the union of the changed fields to every contact in it, so each
            # contact carries all of them: its own values, changed or as loaded.
            fields = sorted({name for pending in changed.values() for name in pending.changed_fields()})
            contacts = [
                Contact(pk=pk, **{name: pending.values[name] for name in fields}) for pk, pending in changed.items()
            ]
            now = timezone.now()
            for contact in contacts:
                contact.updated_at = now
                contact.version = F("version") + 1  # type: ignore[assignment]
            names = sorted(name.removesuffix("_id") if name == "company_id" else name for name in fields)
            _bulk_update(contacts, [*names, "updated_at", "version"])


def _required_problem(missing: list[Any]) -> str:
    labels = ", ".join(f"“{definition.label}”" for definition in missing)
    return _("A new contact needs a value of the required fields %(fields)s.") % {"fields": labels}


def _bulk_update(contacts: list[Contact], fields: list[str]) -> None:
    """One UPDATE per 500 contacts, journaled once per changed contact.

    Django's ``QuerySet.bulk_update`` runs ``update()`` on the journaled queryset, which records
    each row's change; ``JournaledQuerySet.bulk_update`` records it a second time, so the plain
    method is called here on the journaled queryset.
    """
    models.QuerySet.bulk_update(Contact.objects.all(), contacts, fields, batch_size=500)


def _unique(pendings: list[_Pending]) -> list[_Pending]:
    seen: set[int] = set()
    result = []
    for pending in pendings:
        if id(pending) not in seen:
            seen.add(id(pending))
            result.append(pending)
    return result


# --- a whole file ---------------------------------------------------------------------------------------


def run_import(
    *,
    importer: Any,
    rows: Iterator[SourceRow],
    rejected: RejectedRows,
    total: int,
    resume_after: int = 0,
    checkpoint: Callable[[int, Any], None] | None = None,
    progress: Callable[[int, str], None] | None = None,
    batch_size: int | None = None,
) -> Any:
    """Import ``rows`` a batch at a time; each batch is one transaction that also saves the checkpoint.

    ``importer`` is any importer with ``import_batch(rows, write=)`` and ``counts`` (with ``rows``):
    the contact import's, and other modules' (leads) that reuse this loop. Returns its counts.
    ``batch_size`` defaults to ``BATCH_SIZE``.
    """
    done = 0
    while True:
        batch = _take(rows, batch_size or BATCH_SIZE)
        if not batch:
            break
        already_saved = done + len(batch) <= resume_after
        if already_saved:
            problems = importer.import_batch(batch, write=False)
        else:
            with transaction.atomic():
                problems = importer.import_batch(batch)
                importer.counts.rows = done + len(batch)
                if checkpoint is not None:
                    checkpoint(done + len(batch), importer.counts)
        for row, reasons in problems:
            rejected.add(row, reasons)
        done += len(batch)
        importer.counts.rows = done
        if progress is not None and total >= done:
            progress(
                min(99, int(done * 100 / total)),
                _("%(done)s of %(total)s rows") % {"done": f"{done:,}", "total": f"{total:,}"},
            )
        elif progress is not None:  # the file did not say how many rows it has
            progress(50, _("%(done)s rows") % {"done": f"{done:,}"})
    return importer.counts


def _take(rows: Iterator[SourceRow], size: int) -> list[SourceRow]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            break
    return batch


def store_upload(uploaded: Any, *, folder: str = "imports") -> str:
    """Save an uploaded file under ``imports/`` in the default storage; its storage path."""
    import secrets

    from django.utils.text import get_valid_filename

    name = get_valid_filename(str(getattr(uploaded, "name", "") or "upload").rsplit("/", 1)[-1])[-100:] or "upload"
    return default_storage.save(f"{folder}/{secrets.token_hex(8)}/{name}", uploaded)


# --- benchmark -----------------------------------------------------------------------------------------


def bench_import(rows: int, *, duplicates: str = "update", user: Any = None, tag: str = "") -> dict[str, Any]:
    """Import ``rows`` generated contacts from a CSV (1 in 10 repeats an earlier email), then the
    same file again; the figures: rows per second of each run, the CPU time a row costs this process
    and the database server (when it is PostgreSQL on this machine), and the peak memory.

    Writes to the configured database: run it on a database made for the purpose. The people and
    companies of each call are new to it (a random tag in their names), so a database already
    holding contacts, or earlier runs, measures a first import. ``tag`` (six hex digits) chooses it.
    """
    import resource
    import secrets
    import time

    from crm.core.choices import ChangeSource
    from crm.core.context import change_context

    from .reading import inspect_file, open_table

    if user is None:
        from django.contrib.auth import get_user_model

        user, _created = get_user_model().objects.get_or_create(
            username="bench-importer", defaults={"is_superuser": True, "is_staff": False}
        )
    import phonenumbers

    tag = tag or secrets.token_hex(3)
    exchanges = sorted({200 + ref // 10000 % 800 for ref in range(0, rows, 10000)} | {200 + (rows - 1) // 10000 % 800})

    def valid(area: int) -> bool:  # every number of this run is a real US number in this area
        return all(
            phonenumbers.is_valid_number(phonenumbers.parse(f"+1 {area} {exchange} {last}"))
            for exchange in exchanges
            for last in ("0000", "9999")
        )

    areas = list(range(201, 990))
    start = int(tag, 16) % len(areas)  # numbers of this run unlike those of earlier runs
    area = next(a for a in areas[start:] + areas[:start] if valid(a))
    with tempfile.NamedTemporaryFile("w+b", suffix=".csv") as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(["First name", "Last name", "Email", "Mobile", "Company", "Job title", "City", "Country"])
        for index in range(rows):
            ref = index - 7 if index % 10 == 9 else index  # a duplicate of a row a few lines up
            writer.writerow(
                [
                    f"Given{ref}",
                    f"Family{ref}{tag}",
                    f"person{ref}.{tag}@bench.example.com",
                    f"+1 {area} {200 + ref // 10000 % 800:03d} {ref % 10000:04d}",
                    f"Company {ref % 997} {tag}",
                    "Buyer" if index % 2 else "Engineer",
                    "Springfield",
                    "US",
                ]
            )
        text.flush()
        text.detach()
        figures: dict[str, Any] = {"rows": rows, "duplicates": duplicates}
        for run in ("first", "second"):
            handle.seek(0)
            info = inspect_file(handle)
            cpu = _CpuClock()
            started = time.perf_counter()
            importer = ContactImporter(user=user, duplicates=duplicates)
            rejected = RejectedRows(["x"])
            with change_context(actor=user, source=ChangeSource.IMPORT), open_table(handle, info) as table:
                from .mapping import guess_mapping

                mapping = guess_mapping(table.header)
                counts = run_import(
                    importer=importer, rows=map_rows(table.header, table.rows, mapping), rejected=rejected, total=rows
                )
            rejected.close()
            seconds = time.perf_counter() - started
            figures[run] = {
                **counts.as_dict(),
                "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds) if seconds else None,
                "cpu_microseconds_per_row": cpu.per_row(rows),
            }
    figures["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


class _CpuClock:
    """CPU time spent from now on by this process and, when the database is a PostgreSQL server on
    this machine, by this connection's server process: what an imported row costs each side."""

    def __init__(self) -> None:
        from django.db import connection

        self._backend: int | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self._backend = cursor.fetchone()[0]
        self._start = self._read()

    def _read(self) -> tuple[float, float | None]:
        import os
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        backend = None
        if self._backend is not None:
            try:
                with open(f"/proc/{self._backend}/stat") as stat:  # fields 14, 15: utime, stime
                    fields = stat.read().rsplit(")", 1)[1].split()
                backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):  # a server elsewhere, or another system
                backend = None
        return usage.ru_utime + usage.ru_stime, backend

    def per_row(self, rows: int) -> dict[str, int | None]:
        python, backend = self._read()
        start_python, start_backend = self._start
        database = None if backend is None or start_backend is None else backend - start_backend
        return {
            "python": round((python - start_python) * 1e6 / rows) if rows else None,
            "database": round(database * 1e6 / rows) if rows and database is not None else None,
        }
