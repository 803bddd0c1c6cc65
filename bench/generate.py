"""Benchmark data, loaded fast: ``COPY`` on PostgreSQL, plain bulk inserts on SQLite.

Each kind of data is a generator registered under a name. It writes ``count`` rows through a
Django database connection and returns how many it wrote. Generators run in registration order,
so a later one may use an earlier one's rows (the journal's actors are the generated users).
A module adds its own with::

    @generator("contacts", rows=lambda size: size)
    def contacts(count: int, connection: BaseDatabaseWrapper) -> int:
        ...
        return insert_rows(connection, Contact, ["name", "owner"], rows)

Django models are imported inside the generators: this module is also imported by the load
runner, which does not set Django up. Run on its own (settings from the environment)::

    python -m bench.generate --size 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db import models
    from django.db.backends.base.base import BaseDatabaseWrapper

GeneratorFn = Callable[[int, "BaseDatabaseWrapper"], int]

USER_PREFIX = "bench-user-"
LOGIN_USERNAME = f"{USER_PREFIX}000001"  # the first generated user, an Administrator
PASSWORD_ENV = "BENCH_PASSWORD"  # noqa: S105 (the variable's name, not a password)
SEED = 20240601
INSERT_BATCH = 5_000
HISTORY_DAYS = 730

FIRST_NAMES = ("Ada", "Bo", "Chen", "Dana", "Eli", "Fang", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mei", "Nils")
LAST_NAMES = ("Abe", "Berg", "Cruz", "Dahl", "Eng", "Falk", "Gao", "Holm", "Ito", "Juul", "Kim", "Li", "Moe", "Ng")
WORDS = ("north", "lead", "quote", "renewal", "pilot", "priority", "follow-up", "west", "enterprise", "trial", "visit")


@dataclass(frozen=True)
class Generator:
    name: str
    load: GeneratorFn
    rows: Callable[[int], int]  # how many rows a benchmark of data size ``size`` gets

    def __call__(self, count: int, connection: BaseDatabaseWrapper) -> int:
        return self.load(count, connection)


GENERATORS: dict[str, Generator] = {}


def generator(name: str, *, rows: Callable[[int], int] = lambda size: size) -> Callable[[GeneratorFn], GeneratorFn]:
    """Register a generator of benchmark data under ``name``."""

    def register(load: GeneratorFn) -> GeneratorFn:
        GENERATORS[name] = Generator(name=name, load=load, rows=rows)
        return load

    return register


def bench_password() -> str:
    """The one password of every generated user (the load runner passes it in the environment)."""
    password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        password = "bench-" + secrets.token_urlsafe(12)
        os.environ[PASSWORD_ENV] = password
        print(f"Password of the generated users: {password}", file=sys.stderr)
    return password


# --- writing rows ----------------------------------------------------------------------------------


def _sealed(
    connection: BaseDatabaseWrapper, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Iterable[Sequence[Any]]:
    """The rows with the values of encrypted fields sealed as the model stores them (crm.core.crypto)."""
    by_name = {field.name: field for field in model._meta.concrete_fields}
    sealed = [(i, by_name[name]) for i, name in enumerate(fields) if getattr(by_name.get(name), "encrypted", False)]
    if not sealed:
        return rows

    def seal(row: Sequence[Any]) -> Sequence[Any]:
        values = list(row)
        for i, field in sealed:
            values[i] = field.get_db_prep_save(values[i], connection)
        return values

    return (seal(row) for row in rows)


def insert_rows(
    connection: BaseDatabaseWrapper, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Write ``rows`` (values in the order of ``fields``) into ``model``'s table in one transaction.

    Every other column gets the model's default (``auto_now`` fields: now), the same on every row,
    so a generator keeps working when a model gains a field with a default.
    """
    from django.db import transaction

    defaults = _defaults(connection, model, fields)
    names = [*fields, *defaults]
    fixed = tuple(defaults.values())
    quote = connection.ops.quote_name
    column_of = {field.name: field.column for field in model._meta.concrete_fields if field.column}
    if unknown := [name for name in names if name not in column_of]:
        raise ValueError(f"{model.__name__} has no column for {', '.join(unknown)}.")
    columns = ", ".join(quote(column_of[name]) for name in names)
    table = quote(model._meta.db_table)
    rows = _sealed(connection, model, fields, rows)
    written = 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *fixed))
                    written += 1
            return written
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (names from the model, quoted)
        adapt = connection.ops.adapt_datetimefield_value
        rows = iter(rows)
        while batch := [
            [*(adapt(v) if isinstance(v, datetime) else v for v in row), *fixed] for row in islice(rows, INSERT_BATCH)
        ]:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def _defaults(connection: BaseDatabaseWrapper, model: type[models.Model], given: Sequence[str]) -> dict[str, Any]:
    """Database-ready values of the concrete fields not in ``given``."""
    now = datetime.now(UTC)
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()  # "" for text fields without a default
            if value is None and not field.null:
                raise ValueError(f"{model.__name__}.{field.name} has no default: the generator must give it a value.")
        values[field.name] = field.get_db_prep_save(value, connection)
    return values


def refresh_statistics(connection: BaseDatabaseWrapper) -> None:
    """What autovacuum does to a live table: planner statistics and a visibility map."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- users -------------------------------------------------------------------------------------------


@generator("users", rows=lambda size: min(1_000, max(20, size // 1_000)))
def users(count: int, connection: BaseDatabaseWrapper) -> int:
    """Active users with one password; the first is an Administrator, the rest spread over the built-in roles."""
    from django.contrib.auth.hashers import make_password

    from crm.accounts.choices import BuiltinRole
    from crm.accounts.models import Role, User

    roles = dict(Role.objects.exclude(builtin="").values_list("builtin", "pk"))
    if len(roles) < len(BuiltinRole.values):
        raise RuntimeError("The built-in roles are missing: run `manage.py prepare` (it migrates) first.")
    others = [roles[slug] for slug in BuiltinRole.values if slug != BuiltinRole.ADMINISTRATOR]
    password = make_password(bench_password())
    first = User.objects.filter(username__startswith=USER_PREFIX).count() + 1
    now = datetime.now(UTC)

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(first, first + count):
            username = f"{USER_PREFIX}{n:06d}"
            role = roles[BuiltinRole.ADMINISTRATOR] if n == 1 else others[n % len(others)]
            first_name, last_name = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // 7) % len(LAST_NAMES)]
            joined = now - timedelta(days=HISTORY_DAYS, minutes=n)
            yield (username, f"{username}@bench.example", first_name, last_name, password, role, joined)

    fields = ["username", "email", "first_name", "last_name", "password", "role", "date_joined"]
    return insert_rows(connection, User, fields, rows())


# --- change journal ----------------------------------------------------------------------------------


@generator("journal", rows=lambda size: size)
def journal_entries(count: int, connection: BaseDatabaseWrapper) -> int:
    """Changes of every journaled model, by the generated users, over the last two years, oldest first."""
    from django.contrib.contenttypes.models import ContentType

    from crm.accounts.models import User
    from crm.core import journal
    from crm.core.choices import ChangeSource, JournalAction
    from crm.core.models import JournalEntry

    rnd = random.Random(SEED)
    record_types = []
    for model in journal.registered_models():
        type_id = ContentType.objects.get_for_model(model).pk
        label = str(model._meta.verbose_name).capitalize()
        pools = {action: _change_pool(model, action, rnd) for action in JournalAction.values}
        record_types.append((type_id, label, pools))
    actors = list(User.objects.filter(username__startswith=USER_PREFIX).values_list("pk", "username"))
    actors = actors or [(None, "")]
    sources = _weighted({ChangeSource.WEB: 55, ChangeSource.API: 25, ChangeSource.IMPORT: 8, ChangeSource.TASK: 7})
    sources += _weighted({ChangeSource.ADMIN: 2, ChangeSource.COMMAND: 2, ChangeSource.SYSTEM: 1})
    actions = _weighted({JournalAction.CREATE: 15, JournalAction.UPDATE: 80, JournalAction.DELETE: 5})
    records_per_type = max(1, count // (20 * len(record_types)))  # about twenty changes per record
    start = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    step = timedelta(days=HISTORY_DAYS) / max(count, 1)

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(count):
            type_id, label, pools = rnd.choice(record_types)
            source, action = rnd.choice(sources), rnd.choice(actions)
            actor_id, actor_repr = (None, "") if source == ChangeSource.SYSTEM else rnd.choice(actors)
            object_id = str(rnd.randint(1, records_per_type))
            request_id = f"{rnd.getrandbits(128):032x}"
            changes = rnd.choice(pools[action])
            yield (
                start + step * n,
                actor_id,
                actor_repr,
                source,
                action,
                type_id,
                object_id,
                f"{label} {object_id}",
                changes,
                request_id,
            )

    fields = ["timestamp", "actor", "actor_repr", "source", "action", "content_type", "object_id", "object_repr"]
    return insert_rows(connection, JournalEntry, [*fields, "changes", "request_id"], rows())


def _weighted(weights: dict[str, int]) -> list[str]:
    return [str(value) for value, weight in weights.items() for _ in range(weight)]


def _change_pool(model: type[models.Model], action: str, rnd: random.Random, size: int = 200) -> list[str]:
    """Ready-made ``changes`` documents (JSON) as the journal writes them for ``action`` on ``model``."""
    from crm.core import journal

    fields = journal.tracked_fields(model)
    redact = journal._options(model).redact  # the fields whose values the journal never keeps
    related = {
        f.name: list(f.related_model._base_manager.values_list("pk", flat=True)[:1_000])
        for f in fields
        if f.is_relation and isinstance(f.related_model, type)
    }
    pool = []
    for _ in range(size):
        chosen = fields if action != "update" else rnd.sample(fields, k=min(len(fields), rnd.randint(1, 3)))
        changes: dict[str, Any] = {}
        for field in chosen:
            pks = related.get(field.name)
            old, new = _fake_value(field, rnd, pks), _fake_value(field, rnd, pks)
            for _retry in range(5):  # an update records only fields whose value changed
                if new != old:
                    break
                new = _fake_value(field, rnd, pks)
            if field.name in redact:
                changes[field.name] = [journal.REDACTED, journal.REDACTED]
            else:
                changes[field.name] = {"create": [None, new], "delete": [old, None]}.get(action, [old, new])
        pool.append(json.dumps(changes))
    return pool


def _fake_value(field: Any, rnd: random.Random, related_pks: list[Any] | None) -> Any:
    """A plausible JSON value for ``field``, as ``journal.to_json`` would store it; relations
    name existing rows (``related_pks``) where there are any."""
    kind = field.get_internal_type()
    if field.is_relation:
        return rnd.choice(related_pks) if related_pks else rnd.randint(1, 1_000)
    if field.choices:
        return rnd.choice([value for value, _label in field.flatchoices])
    if kind.endswith("IntegerField"):
        return rnd.randint(1, 1_000)
    if kind == "BooleanField":
        return rnd.random() < 0.5
    if kind in {"DateTimeField", "DateField"}:
        moment = datetime.now(UTC) - timedelta(minutes=rnd.randint(0, HISTORY_DAYS * 1_440))
        return moment.isoformat() if kind == "DateTimeField" else moment.date().isoformat()
    if kind == "DecimalField":
        return f"{rnd.randint(0, 99_999)}.{rnd.randint(0, 99):02d}"
    if kind == "JSONField":
        return {rnd.choice(WORDS): rnd.randint(0, 9)}
    if kind == "EmailField":
        return f"{rnd.choice(FIRST_NAMES).lower()}.{rnd.randint(1, 9_999)}@example.com"
    text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 4)))
    return text[: field.max_length] if field.max_length else text


# --- command line ------------------------------------------------------------------------------------


def load_all(size: int, connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """Run every generator for data size ``size``; returns rows written and seconds taken per generator."""
    summary: dict[str, Any] = {"engine": connection.vendor, "rows": {}, "seconds": {}}
    for name, gen in GENERATORS.items():
        started = time.perf_counter()
        summary["rows"][name] = gen(gen.rows(size), connection)
        summary["seconds"][name] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    refresh_statistics(connection)
    summary["seconds"]["statistics"] = round(time.perf_counter() - started, 2)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description="Load benchmark data.")
    parser.add_argument("--size", type=int, default=10_000, help="journal entries to write (default 10,000)")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    print(json.dumps(load_all(args.size, connection)))
    return 0


if __name__ == "__main__":
    # Run the imported module, whose registry is the one other modules' generators register with.
    from bench import generate

    sys.exit(generate.main())


# Modules' generators register on import (after the platform's own, which they build on).
import bench.customers  # noqa: E402
import bench.sales  # noqa: E402,F401
