"""Exporting the contacts or companies a person may see, filtered like their list, to CSV, XLSX or
vCard, written row by row to a temporary file and attached to the job.

Both spreadsheet formats are formula-safe: in CSV a text that a spreadsheet program would run as a
formula (``=``, ``+``, ``-``, ``@``) gets a leading apostrophe (``crm.core.exports.safe_cell``); in
XLSX such a cell is stored as text and marked so ("quote prefix"), so the program shows it as typed.
The column headers are the import's field names, so an exported file imports back as it is. The
active custom fields follow the standard columns, headed by their labels (numbers and amounts as
numbers, dates as dates, the rest as text written the way the import reads it); the values of
sensitive ones are masked for a person who may not view sensitive fields.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from django.core.files import File
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.crypto import masking
from crm.core.exports import FORMULA_PREFIXES, safe_cell

from .. import selectors
from ..choices import ChannelKind
from ..custom_fields import selectors as custom_field_selectors
from ..custom_fields.sensitive import shown_export
from ..filtersets import CompanyFilterSet, ContactFilterSet
from ..models import Company, Contact, ContactEmail, ContactPhone
from .mapping import TARGETS_BY_KEY

FORMATS = ("csv", "xlsx", "vcf")
MODELS = ("contacts", "companies")
PROGRESS_EVERY = 2000


class ExportError(ValueError):
    pass


@dataclass(frozen=True)
class ExportSpec:
    model: str  # "contacts" or "companies"
    fmt: str  # "csv", "xlsx" or "vcf" (contacts only)
    filters: dict[str, str]


def clean_filters(model: str, data: Any) -> dict[str, str]:
    """The filters of the list page that the filter definition knows (the custom fields' too),
    non-empty, as plain strings."""
    filterset_class: Any = ContactFilterSet if model == "contacts" else CompanyFilterSet
    names = set(filterset_class(None, queryset=filterset_class._meta.model.objects.none()).filters)
    return {name: str(data.get(name)) for name in sorted(names) if data.get(name) not in (None, "")}


def export_queryset(*, user: Any, spec: ExportSpec) -> QuerySet[Any]:
    """What the person may export, filtered; raises ExportError when the filters are not valid."""
    if spec.model == "contacts":
        base: QuerySet[Any] = selectors.contact_list(user=user, action="export")
        filterset: Any = ContactFilterSet(spec.filters, queryset=base)
    else:
        base = selectors.company_list(user=user, action="export")
        filterset = CompanyFilterSet(spec.filters, queryset=base)
    if not filterset.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items())
        raise ExportError(_("The filters are not valid: %(errors)s") % {"errors": errors})
    return filterset.qs


# --- rows ----------------------------------------------------------------------------------------------


def _label(key: str) -> str:
    return str(TARGETS_BY_KEY[key].label)


def _custom_definitions(entity: str) -> list[Any]:
    return custom_field_selectors.active_definitions(entity)


def _custom_cells(record: Any, definitions: list[Any]) -> list[Any]:
    values = record.custom if isinstance(record.custom, dict) else {}
    return [shown_export(record, definition, values.get(definition.key)) for definition in definitions]


def contact_header(definitions: list[Any] | None = None) -> list[str]:
    if definitions is None:
        definitions = _custom_definitions("contact")
    return [
        _("ID"),
        *(_label(key) for key in ("first_name", "last_name", "full_name", "email", "email_other")),
        *(_label(key) for key in ("mobile", "phone", "phone_other", "title", "company", "lifecycle_stage")),
        *(_label(key) for key in ("source", "date_of_birth", "street", "city", "region", "postal_code", "country")),
        _("Owner"),
        _("Team"),
        _("Created (UTC)"),
        _("Updated (UTC)"),
        *(str(definition.label) for definition in definitions),
    ]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.make_naive(value, dt.UTC) if value else None


def contacts_with_channels(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    return queryset.order_by("name", "id").prefetch_related(
        Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=ContactPhone.objects.order_by("-is_primary", "id")),
    )


def contact_row(contact: Contact, definitions: list[Any] | None = None) -> list[Any]:
    if definitions is None:
        definitions = _custom_definitions("contact")
    emails = [e.email for e in contact.emails.all()]
    primary = contact.email or (emails[0] if emails else "")
    phones = list(contact.phones.all())

    def sensitive(value: Any) -> Any:
        return masking.shown(contact, value)

    mobile = [sensitive(p.number) for p in phones if p.kind == ChannelKind.MOBILE]
    work = [sensitive(p.number) for p in phones if p.kind == ChannelKind.WORK]
    other = [sensitive(p.number) for p in phones if p.kind not in (ChannelKind.MOBILE, ChannelKind.WORK)]
    return [
        contact.pk,
        contact.first_name,
        contact.last_name,
        contact.full_name,
        primary,
        "; ".join(e for e in emails if e != primary),
        "; ".join(mobile),
        "; ".join(work),
        "; ".join(other),
        contact.title,
        contact.company.name if contact.company_id and contact.company else "",
        contact.get_lifecycle_stage_display(),
        contact.get_source_display() if contact.source else "",
        sensitive(contact.date_of_birth),
        sensitive(contact.street),
        contact.city,
        contact.region,
        sensitive(contact.postal_code),
        contact.country,
        contact.owner.get_username() if contact.owner_id and contact.owner else "",
        contact.team.name if contact.team_id and contact.team else "",
        _utc(contact.created_at),
        _utc(contact.updated_at),
        *_custom_cells(contact, definitions),
    ]


def company_header(definitions: list[Any] | None = None) -> list[str]:
    if definitions is None:
        definitions = _custom_definitions("company")
    return [
        _("ID"),
        _("Name"),
        _("Industry"),
        _("Size"),
        _("Website"),
        _("Domain"),
        _("Phone"),
        _label("street"),
        _label("city"),
        _label("region"),
        _label("postal_code"),
        _label("country"),
        _("Parent company"),
        _("Owner"),
        _("Team"),
        _("Created (UTC)"),
        _("Updated (UTC)"),
        *(str(definition.label) for definition in definitions),
    ]


def company_row(company: Company, definitions: list[Any] | None = None) -> list[Any]:
    if definitions is None:
        definitions = _custom_definitions("company")
    return [
        company.pk,
        company.name,
        company.industry,
        company.get_size_display() if company.size else "",
        company.website,
        company.domain,
        company.phone,
        company.street,
        company.city,
        company.region,
        company.postal_code,
        company.country,
        company.parent.name if company.parent_id and company.parent else "",
        company.owner.get_username() if company.owner_id and company.owner else "",
        company.team.name if company.team_id and company.team else "",
        _utc(company.created_at),
        _utc(company.updated_at),
        *_custom_cells(company, definitions),
    ]


# --- writers ---------------------------------------------------------------------------------------------


def write_csv_file(handle: IO[bytes], header: list[str], rows: Iterator[list[Any]]) -> int:
    """Formula-safe CSV in UTF-8 with a byte-order mark, streamed; the number of rows."""
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    text.write("\ufeff")
    writer = csv.writer(text)
    writer.writerow([safe_cell(cell) for cell in header])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(_csv_value(cell)) for cell in row])
        count += 1
    text.flush()
    text.detach()
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_xlsx_file(handle: IO[bytes], header: list[str], rows: Iterator[list[Any]], *, title: str) -> int:
    """XLSX written in openpyxl's write-only mode; formula-like texts are stored as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            item = WriteOnlyCell(sheet, value=value)
            item.data_type = "s"
            if value.startswith(FORMULA_PREFIXES):
                item.quotePrefix = True
            return item
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            item = WriteOnlyCell(sheet, value=value)
            item.number_format = "yyyy-mm-dd"
            return item
        return value

    sheet.append([cell(value) for value in header])
    count = 0
    for row in rows:
        sheet.append([cell(value) for value in row])
        count += 1
    workbook.save(handle)
    return count


def write_vcards(handle: IO[bytes], contacts: Iterator[Contact]) -> int:
    from .vcards import contact_vcard

    count = 0
    for contact in contacts:
        text = contact_vcard(contact, emails=contact.emails.all(), phones=contact.phones.all())
        handle.write(text.encode("utf-8"))
        count += 1
    return count


# --- the job ------------------------------------------------------------------------------------------------


def run_export(*, job: Any, user: Any, spec: ExportSpec, progress: Callable[[int, str], None]) -> dict[str, Any]:
    """Write the export file and attach it to ``job``; the job's result."""
    from crm.core.models import Job

    if spec.fmt not in FORMATS or spec.model not in MODELS or (spec.fmt == "vcf" and spec.model != "contacts"):
        raise ExportError(_("This export format is not available."))
    queryset = export_queryset(user=user, spec=spec)
    total = queryset.count()
    if spec.model == "contacts":
        records: Iterator[Any] = contacts_with_channels(queryset).iterator(chunk_size=PROGRESS_EVERY)
        definitions = _custom_definitions("contact")
        header = contact_header(definitions)
        to_row = cast(Callable[[Any], list[Any]], lambda record: contact_row(record, definitions))
        title = _("Contacts")
    else:
        records = queryset.order_by("name", "id").iterator(chunk_size=PROGRESS_EVERY)
        definitions = _custom_definitions("company")
        header = company_header(definitions)
        to_row = cast(Callable[[Any], list[Any]], lambda record: company_row(record, definitions))
        title = _("Companies")

    def counted(items: Iterator[Any]) -> Iterator[Any]:
        for index, item in enumerate(items, start=1):
            yield item
            if index % PROGRESS_EVERY == 0:
                progress(
                    int(index * 95 / max(total, 1)),
                    _("%(done)s of %(total)s rows") % {"done": f"{index:,}", "total": f"{total:,}"},
                )

    stem = "contacts" if spec.model == "contacts" else "companies"
    name = f"{stem}-{timezone.now():%Y%m%d-%H%M%S}.{spec.fmt}"
    with tempfile.TemporaryFile() as handle:
        if spec.fmt == "csv":
            count = write_csv_file(handle, header, (to_row(r) for r in counted(records)))
        elif spec.fmt == "xlsx":
            count = write_xlsx_file(handle, header, (to_row(r) for r in counted(records)), title=str(title))
        else:
            count = write_vcards(handle, counted(records))
        handle.seek(0)
        if job.result_file:
            job.result_file.delete(save=False)  # a retried run replaces its earlier file
        job.result_file.save(name, File(handle), save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    return {"rows": count, "format": spec.fmt, "model": spec.model, "file_name": name}
