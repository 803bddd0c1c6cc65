"""Column values are copied as stored: one engine-neutral form per kind, read and written back without
the fields' own conversions (an encrypted field's ciphertext stays byte for byte the same)."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import uuid

import pytest
from django.db import connection

from crm.accounts.tests.factories import UserFactory
from crm.customers import services as customer_services
from crm.dataprotection.backup import archive, codec
from crm.dataprotection.backup.codec import Checksum, Column


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_each_kind_reads_to_one_form(vendor):
    columns = [
        Column("a", codec.DATETIME),
        Column("b", codec.DECIMAL, 2),
        Column("c", codec.JSON),
        Column("d", codec.UUID),
        Column("e", codec.BINARY),
        Column("f", codec.DURATION),
        Column("g", codec.BOOL),
        Column("h", codec.DATE),
    ]
    read = codec.row_reader(vendor, columns)
    moment = dt.datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=dt.UTC)
    raw = (
        moment if vendor == "postgresql" else "2025-01-02 03:04:05.600000",
        decimal.Decimal("1200.5") if vendor == "postgresql" else 1200.5,
        '{"b": [1, 2], "a": "中"}',
        uuid.UUID(int=5) if vendor == "postgresql" else uuid.UUID(int=5).hex,
        b"\x00\xff",
        dt.timedelta(seconds=3, microseconds=7) if vendor == "postgresql" else 3_000_007,
        True if vendor == "postgresql" else 1,
        dt.date(2025, 1, 2) if vendor == "postgresql" else "2025-01-02",
    )
    assert read(raw) == [
        "2025-01-02 03:04:05.600000",
        "1200.50",
        '{"a":"中","b":[1,2]}',
        uuid.UUID(int=5).hex,
        "AP8=",
        3_000_007,
        True,
        "2025-01-02",
    ]
    written = codec.row_writer(vendor, columns)(read(raw))
    assert written[4] == b"\x00\xff"
    if vendor == "postgresql":
        assert written[0] == "2025-01-02 03:04:05.600000+00:00" and written[5] == dt.timedelta(
            seconds=3, microseconds=7
        )


@pytest.mark.django_db
def test_what_the_server_formats_reads_the_same_as_what_python_formats():
    """``select_list`` has PostgreSQL write dates, decimals and UUIDs itself (SQLite: hand text back)."""
    columns = [
        Column("a", codec.DATETIME),
        Column("b", codec.DATE),
        Column("c", codec.DECIMAL, 2),
        Column("d", codec.UUID),
    ]
    value = uuid.uuid4()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT %s::timestamptz AS a, %s::date AS b, %s::numeric(10,2) AS c, %s::uuid AS d",
                ["2025-01-02 03:04:05.6+00", "2025-01-02", "12.5", str(value)],
            )
            raw = cursor.fetchone()
            formatted_sql = codec.select_list(connection, columns)
            cursor.execute(
                f"SELECT {formatted_sql} FROM (SELECT %s::timestamptz AS a, %s::date AS b, %s::numeric(10,2) AS c, %s::uuid AS d) AS t",  # noqa: S608
                ["2025-01-02 03:04:05.6+00", "2025-01-02", "12.5", str(value)],
            )
            formatted = cursor.fetchone()
        else:
            raw = formatted = ("2025-01-02 03:04:05.600000", "2025-01-02", 12.5, value.hex)
    expected = ["2025-01-02 03:04:05.600000", "2025-01-02", "12.50", value.hex]
    assert codec.row_reader(connection.vendor, columns)(raw) == expected
    assert codec.row_reader(connection.vendor, columns, formatted=True)(formatted) == expected


def test_checksums_do_not_depend_on_order_and_follow_removals():
    lines = [codec.encode_row([n, f"row {n}"]) for n in range(5)]
    forward, backward = Checksum(), Checksum()
    forward.add_many(lines)
    backward.add_many(reversed(lines))
    assert forward == backward and forward.count == 5
    forward.remove(lines[2])
    partial = Checksum()
    partial.add_many(lines[:2] + lines[3:])
    assert forward == partial


def test_a_stream_cut_short_or_damaged_is_refused():
    out = io.BytesIO()
    writer = archive.Writer(out.write)
    writer.json(archive.HEADER, {"kind": "full"})
    writer.rows([b"[1]", b"[2]"])
    writer.json(archive.TRAILER, {})
    writer.close()
    data = out.getvalue()
    assert [tag for tag, _payload in archive.frames(io.BytesIO(data))] == [
        archive.HEADER,
        archive.ROWS,
        archive.TRAILER,
    ]
    with pytest.raises(archive.ArchiveError):
        list(archive.frames(io.BytesIO(data[: len(data) - 8])))
    with pytest.raises(archive.ArchiveError):
        list(archive.frames(io.BytesIO(b"not a backup")))


@pytest.mark.django_db
def test_an_encrypted_column_is_read_as_its_ciphertext(roles):
    """The backup reads the stored text, never the clear value the field would give."""
    from crm.dataprotection.backup import catalogue

    boss = UserFactory(username="boss", role=roles["administrator"])
    contact = customer_services.contact_create(
        actor=boss, data={"first_name": "Ada", "last_name": "L", "street": "12 St James's Square"}
    )
    table = next(t for t in catalogue.tables() if t.name == "customers_contact")
    index = table.column_names().index("street")
    cols = ", ".join(connection.ops.quote_name(c) for c in table.column_names())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM customers_contact WHERE id = %s", [contact.pk])  # noqa: S608
        raw = cursor.fetchone()
    value = codec.row_reader(connection.vendor, table.columns)(raw)[index]
    assert value == raw[index] and "St James" not in value and value != ""
