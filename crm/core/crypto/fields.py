"""Model fields whose values are stored encrypted (AES-256-GCM, tagged with the key id).

    phone = EncryptedCharField(_("phone"), max_length=32, blank=True, blind_index=True)

The column holds text: ``""`` for an empty value (so "has a phone number" stays a plain filter),
otherwise the sealed value, preceded by its blind index (32 hex characters of an HMAC of the clear
value) when ``blind_index=True``. Python code sees clear values; validation (``max_length``, dates)
applies to them. Lookups: ``exact`` and ``in`` go through the blind index (declare its database index
with :func:`blind_index_index`), ``isnull`` works; any other lookup (``icontains``, ``gt``, ...)
raises a clear error, since nothing but equality can be asked of an encrypted value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.models import Lookup
from django.db.models.functions import Substr

from . import keyring

INDEX_LENGTH = keyring.INDEX_LENGTH


class EncryptedFieldMixin:
    encrypted = True

    def __init__(self, *args: Any, blind_index: bool = False, **kwargs: Any) -> None:
        self.blind_index = blind_index
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        if self.blind_index:
            kwargs["blind_index"] = True
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    # clear value <-> text; dates override
    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def seal_text(self, text: str) -> str:
        if text == "":
            return ""
        token = keyring.seal(text)
        return keyring.blind_index(text) + token if self.blind_index else token

    def open_stored(self, stored: str) -> str:
        if stored == "":
            return ""
        return keyring.open_sealed(stored[INDEX_LENGTH:] if self.blind_index else stored)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return self.from_text(self.open_stored(value))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = self.to_python(value)  # type: ignore[attr-defined]
        if value is None:
            return None
        return self.seal_text(self.to_text(value))

    def index_of(self, value: Any) -> str:
        """The blind index of a clear value, as stored ahead of the sealed value."""
        value = self.to_python(value)  # type: ignore[attr-defined]
        text = "" if value is None else self.to_text(value)
        return "" if text == "" else keyring.blind_index(text)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name in ("exact", "in"):
            return {"exact": EncryptedExact, "in": EncryptedIn}[lookup_name]
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)  # type: ignore[misc]
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class EncryptedCharField(EncryptedFieldMixin, models.CharField):  # type: ignore[misc]
    """A short text (phone number, identity number, street) stored encrypted; ``max_length`` limits
    the clear value."""


class EncryptedTextField(EncryptedFieldMixin, models.TextField):  # type: ignore[misc]
    pass


class EncryptedDateField(EncryptedFieldMixin, models.DateField):  # type: ignore[misc]
    def to_text(self, value: Any) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> Any:
        return dt.date.fromisoformat(text)


def encrypted_fields(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if getattr(f, "encrypted", False)]


def blind_index_of(name: str) -> Substr:
    """The blind index of column ``name`` as an expression: equal clear values give equal results, so
    it can be grouped on (duplicate scans)."""
    return Substr(models.F(name), 1, INDEX_LENGTH, output_field=models.CharField())


def blind_index_index(name: str, *, index_name: str) -> models.Index:
    """The database index that makes exact matches on an encrypted field fast (on both engines)."""
    return models.Index(Substr(name, 1, INDEX_LENGTH), name=index_name)


# --- lookups -------------------------------------------------------------------------------------------


class _EncryptedLookup(Lookup):
    prepare_rhs = False

    def _field(self) -> Any:
        return self.lhs.output_field

    def _indexes(self, values: list[Any]) -> tuple[list[str], bool]:
        if hasattr(self.rhs, "resolve_expression"):
            raise FieldError(f"{self._field().name} is encrypted: it can be compared with values only.")
        field = self._field()
        digests = [field.index_of(v) for v in values if v is not None]
        has_empty = "" in digests
        digests = [d for d in digests if d]
        if digests and not field.blind_index:
            raise FieldError(f"{field.name} is encrypted without a blind index: it cannot be searched.")
        return digests, has_empty

    def _sql(self, compiler: Any, connection: Any, digests: list[str], has_empty: bool) -> tuple[str, list[Any]]:
        parts, params = [], []
        if digests:
            # Written out with literal bounds: SQLite matches an expression index only when the
            # query's expression is the same text, and bound parameters would differ from it.
            lhs_sql, index_params = compiler.compile(self.lhs)
            function = "SUBSTR" if connection.vendor == "sqlite" else "SUBSTRING"
            index_sql = f"{function}({lhs_sql}, 1, {INDEX_LENGTH})"
            if len(digests) == 1:
                parts.append(f"{index_sql} = %s")
                params += [*index_params, *digests]
            elif connection.vendor == "postgresql":
                parts.append(f"{index_sql} = ANY(%s)")  # one array parameter, however many values
                params += [*index_params, digests]
            else:
                parts.append(f"{index_sql} IN ({', '.join(['%s'] * len(digests))})")
                params += [*index_params, *digests]
        if has_empty:
            lhs_sql, lhs_params = compiler.compile(self.lhs)
            parts.append(f"{lhs_sql} = %s")
            params += [*lhs_params, ""]
        if not parts:
            return "1 = 0", []
        return ("(" + " OR ".join(parts) + ")") if len(parts) > 1 else parts[0], params


class EncryptedExact(_EncryptedLookup):
    lookup_name = "exact"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        digests, has_empty = self._indexes([self.rhs])
        return self._sql(compiler, connection, digests, has_empty)


class EncryptedIn(_EncryptedLookup):
    lookup_name = "in"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        digests, has_empty = self._indexes(list(self.rhs))
        return self._sql(compiler, connection, sorted(set(digests)), has_empty)
