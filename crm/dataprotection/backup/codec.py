"""Column values as stored, in engine-neutral JSON.

A backup never reads a column through its field's ``from_db_value`` nor writes it through
``get_db_prep_value``: an encrypted field (internal type ``TextField``) holds ciphertext, and that
ciphertext is what is copied, byte for byte, both ways. Each column is read with a raw cursor and
converted by its kind (``column_kind``: the field's internal type, following foreign keys to the
column they point at) with a small table of converters per engine:

=========  ==========================================  ==================================
kind       JSON value                                  stored as
=========  ==========================================  ==================================
int        number                                      integer
text       string                                      text (ciphertext included)
bool       true / false                                boolean (SQLite: 0 / 1)
datetime   ``"YYYY-MM-DD HH:MM:SS[.ffffff]"`` in UTC   timestamptz (SQLite: that text)
date       ``"YYYY-MM-DD"``                            date
time       ``"HH:MM:SS[.ffffff]"``                     time
decimal    string with the field's decimal places      numeric (SQLite: its number)
float      number                                      double precision / real
json       canonical JSON text (sorted keys)           jsonb (SQLite: text)
uuid       32 hexadecimal digits                       uuid (SQLite: that text)
binary     base64 string                               bytea / blob
duration   microseconds                                interval (SQLite: integer)
=========  ==========================================  ==================================

A row is the JSON array of its values in column order; the same data gives the same bytes on both
engines, so a row's hash is comparable everywhere. A table's checksum is the sum of the first 16 bytes
of each row's SHA-256 (modulo 2**128): it does not depend on the order rows are read in, and it can be
updated as rows are added and removed.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

INT = "int"
TEXT = "text"
BOOL = "bool"
DATETIME = "datetime"
DATE = "date"
TIME = "time"
DECIMAL = "decimal"
FLOAT = "float"
JSON = "json"
UUID = "uuid"
BINARY = "binary"
DURATION = "duration"

KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        ),
        INT,
    ),
    **dict.fromkeys(
        (
            "CharField",
            "TextField",
            "SlugField",
            "EmailField",
            "URLField",
            "FileField",
            "ImageField",
            "FilePathField",
            "GenericIPAddressField",
            "IPAddressField",
        ),
        TEXT,
    ),
    "BooleanField": BOOL,
    "NullBooleanField": BOOL,
    "DateTimeField": DATETIME,
    "DateField": DATE,
    "TimeField": TIME,
    "DecimalField": DECIMAL,
    "FloatField": FLOAT,
    "JSONField": JSON,
    "UUIDField": UUID,
    "BinaryField": BINARY,
    "DurationField": DURATION,
}

MOD = 1 << 128


class UnknownColumnType(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    name: str  # the database column
    kind: str
    places: int | None = None  # decimals: the field's decimal places

    def as_json(self) -> list[Any]:
        return [self.name, self.kind, self.places]

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> Column:
        return cls(name=value[0], kind=value[1], places=value[2])


def column_kind(field: models.Field[Any, Any]) -> str:
    """The kind of a concrete field's column (a foreign key: the kind of the column it points at)."""
    target: Any = field
    for _hop in range(10):
        if not target.is_relation:
            break
        target = target.target_field
    internal = target.get_internal_type()
    kind = KINDS.get(internal)
    if kind is None:
        raise UnknownColumnType(f"{field.model._meta.label}.{field.name}: no backup converter for {internal}")
    return kind


def column_of(field: models.Field[Any, Any]) -> Column:
    kind = column_kind(field)
    target: Any = field
    while target.is_relation:
        target = target.target_field
    places = target.decimal_places if kind == DECIMAL else None
    return Column(name=str(field.column), kind=kind, places=places)


# --- reading: database value -> JSON value --------------------------------------------------------------


def _datetime_pg(value: Any) -> str:
    if isinstance(value, str):
        return _datetime_text(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return str(value)


def _datetime_text(value: Any) -> str:
    """SQLite holds ``str()`` of the UTC time; anything else that parses is brought to that form."""
    if isinstance(value, dt.datetime):
        return _datetime_pg(value)
    text = str(value)
    if len(text) in (19, 26) and text[10] == " " and text[4] == "-":
        return text
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return _datetime_pg(parsed)


def _isoformat(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


_FLOAT_CONTEXT = decimal.Context(prec=15)


def _decimal(places: int | None) -> Callable[[Any], str]:
    exponent = decimal.Decimal(1).scaleb(-(places or 0))

    def convert(value: Any) -> str:
        number = _FLOAT_CONTEXT.create_decimal_from_float(value) if isinstance(value, float) else decimal.Decimal(value)
        return format(number.quantize(exponent, context=decimal.Context(prec=100)), "f")

    return convert


def canonical_json(value: Any) -> str:
    """A JSON column's text in one form on every engine."""
    parsed = json.loads(value) if isinstance(value, (str, bytes, bytearray)) else value
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _uuid(value: Any) -> str:
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex


def _binary(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _duration(value: Any) -> int:
    if isinstance(value, dt.timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return int(value)


def _trim_micro(value: str) -> str:
    return value[:-7] if value.endswith(".000000") else value


def _readers(vendor: str, formatted: bool) -> dict[str, Callable[[Any], Any] | None]:
    """Converters per kind. ``formatted``: the values were selected with ``select_list``, which on
    PostgreSQL has the server write dates, times, decimals and UUIDs as text already."""
    if vendor == "sqlite":
        return {
            INT: None,
            TEXT: None,
            BOOL: bool,
            DATETIME: _datetime_text,
            DATE: _isoformat,
            TIME: _isoformat,
            FLOAT: float,
            JSON: canonical_json,
            UUID: _uuid,
            BINARY: _binary,
            DURATION: _duration,
        }
    return {
        INT: None,
        TEXT: None,  # Django has psycopg read inet as text
        BOOL: None,
        DATETIME: _trim_micro if formatted else _datetime_pg,
        DATE: None if formatted else _isoformat,
        TIME: _isoformat,
        FLOAT: None,
        JSON: canonical_json,
        UUID: None if formatted else _uuid,
        BINARY: _binary,
        DURATION: _duration,
    }


_PG_FORMATS = {
    DATETIME: "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    DATE: "to_char({c}, 'YYYY-MM-DD')",
    UUID: "replace({c}::text, '-', '')",
    DECIMAL: "{c}::text",
}
_SQLITE_FORMATS = {DATETIME: "CAST({c} AS TEXT)", DATE: "CAST({c} AS TEXT)"}


def select_list(connection: Any, columns: Sequence[Column]) -> str:
    """The SELECT list that reads ``columns`` for ``row_reader(..., formatted=True)``: the server
    formats what it formats faster than Python would (and SQLite hands text back unparsed)."""
    formats = _PG_FORMATS if connection.vendor == "postgresql" else _SQLITE_FORMATS
    quote = connection.ops.quote_name
    return ", ".join(formats.get(c.kind, "{c}").format(c=quote(c.name)) for c in columns)


def row_reader(
    vendor: str, columns: Sequence[Column], *, formatted: bool = False
) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning one database row (values in ``columns`` order, as the driver returns them,
    or selected with ``select_list`` when ``formatted``) into JSON values."""
    table = _readers(vendor, formatted)
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(columns):
        if column.kind == DECIMAL:
            convert = None if formatted and vendor == "postgresql" else _decimal(column.places)
        else:
            convert = table[column.kind]
        if convert is not None:
            converters.append((index, convert))

    if not converters:
        return list

    def read(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for index, convert in converters:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return values

    return read


# --- writing: JSON value -> database parameter -------------------------------------------------------------


def _datetime_to_pg(value: str) -> str:
    return value + "+00:00"


def _binary_out(value: str) -> bytes:
    return base64.b64decode(value)


def _duration_to_pg(value: int) -> dt.timedelta:
    return dt.timedelta(microseconds=value)


def row_writer(vendor: str, columns: Sequence[Column]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning JSON values back into parameters that store exactly what was read."""
    if vendor == "postgresql":
        table: dict[str, Callable[[Any], Any]] = {
            DATETIME: _datetime_to_pg,
            BINARY: _binary_out,
            DURATION: _duration_to_pg,
        }
    else:
        table = {BINARY: _binary_out}
    converters = [(i, table[c.kind]) for i, c in enumerate(columns) if c.kind in table]

    def write(values: Sequence[Any]) -> list[Any]:
        out = list(values)
        for index, convert in converters:
            value = out[index]
            if value is not None:
                out[index] = convert(value)
        return out

    return write


# --- rows as bytes, and checksums ---------------------------------------------------------------------------


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def encode_row(values: Sequence[Any]) -> bytes:
    return _encode(values).encode("utf-8", "surrogatepass")


def decode_row(line: bytes) -> list[Any]:
    return json.loads(line.decode("utf-8", "surrogatepass"))  # type: ignore[no-any-return]


def decode_rows(payload: bytes) -> list[list[Any]]:
    """The rows of one ``R`` frame (lines of JSON arrays; a line never holds a raw newline)."""
    return json.loads(b"[" + payload.replace(b"\n", b",") + b"]")  # type: ignore[no-any-return]


def row_hash(line: bytes) -> int:
    return int.from_bytes(hashlib.sha256(line).digest()[:16], "big")


class Checksum:
    """The order-independent checksum of a set of rows, and how many there are."""

    __slots__ = ("count", "total")

    def __init__(self, total: int = 0, count: int = 0) -> None:
        self.total = total
        self.count = count

    def add(self, line: bytes) -> None:
        self.total = (self.total + row_hash(line)) % MOD
        self.count += 1

    def add_many(self, lines: Iterable[bytes]) -> None:
        total = self.total
        count = 0
        for line in lines:
            total += int.from_bytes(hashlib.sha256(line).digest()[:16], "big")
            count += 1
        self.total = total % MOD
        self.count += count

    def remove(self, line: bytes) -> None:
        self.total = (self.total - row_hash(line)) % MOD
        self.count -= 1

    @property
    def hex(self) -> str:
        return f"{self.total:032x}"

    @classmethod
    def from_hex(cls, value: str, count: int) -> Checksum:
        return cls(int(value, 16), count)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checksum) and (self.total, self.count) == (other.total, other.count)

    def __repr__(self) -> str:
        return f"Checksum({self.hex}, {self.count})"
