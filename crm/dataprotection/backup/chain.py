"""The files a restore reads, checked before anything is written: a full backup and the incrementals
after it, fetched from the destination or named on the command line.

``prepare`` touches no database: it checks each file against its description (size, SHA-256),
decrypts it with the private key into a scratch folder (age authenticates every chunk: a file cut
short, altered, or encrypted to other keys stops here), checks that the files form one chain in order
and that none needs a migration this code does not have, and reads every file through, checking each
table's rows and each attached file's bytes against their checksums.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

from . import archive, crypto, destinations
from .archive import ArchiveError
from .codec import Checksum
from .destinations import Destination, DestinationError

PLAN = "plan.json"

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str = "") -> None:
    return None


class RestoreError(RuntimeError):
    """The restore is refused; nothing was written to the target."""


@dataclass
class Source:
    name: str
    path: Path  # the encrypted file
    description: dict[str, Any] | None = None  # its sidecar, when there is one


@dataclass
class Prepared:
    folder: Path
    files: list[dict[str, Any]] = field(default_factory=list)  # header, trailer, plain file
    ledger: list[dict[str, Any]] = field(default_factory=list)

    def save(self) -> None:
        (self.folder / PLAN).write_text(json.dumps({"files": self.files, "ledger": self.ledger}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Prepared:
        data = json.loads((folder / PLAN).read_text(encoding="utf-8"))
        return cls(folder=folder, files=data["files"], ledger=data["ledger"])


# --- choosing the files ------------------------------------------------------------------------------------


def local_sources(paths: list[Path]) -> list[Source]:
    found = []
    for path in paths:
        if not path.is_file():
            raise RestoreError(_("%(path)s does not exist.") % {"path": path})
        sidecar = path.with_name(destinations.sidecar_name(path.name))
        description = None
        if sidecar.is_file():
            try:
                description = json.loads(sidecar.read_text(encoding="utf-8"))
            except ValueError:
                description = None
        found.append(Source(name=path.name, path=path, description=description))
    return found


def chain_from_destination(destination: Destination, *, uid: str = "") -> list[dict[str, Any]]:
    """The descriptions of the chain ending with backup ``uid`` (default: the newest finished one)."""
    described = destinations.read_sidecars(destination)
    if not described:
        raise RestoreError(_("The destination holds no finished backup."))
    last = next((d for d in described if d.get("uid") == uid), None) if uid else described[-1]
    if last is None:
        raise RestoreError(_("No finished backup %(uid)s in the destination.") % {"uid": uid})
    chain = sorted(
        (d for d in described if d.get("chain") == last.get("chain") and int(d["sequence"]) <= int(last["sequence"])),
        key=lambda d: int(d["sequence"]),
    )
    if [int(d["sequence"]) for d in chain] != list(range(int(last["sequence"]) + 1)):
        raise RestoreError(
            _("A backup of the chain %(chain)s is missing from the destination.") % {"chain": last["chain"]}
        )
    return chain


def fetch(destination: Destination, chain: list[dict[str, Any]], folder: Path) -> list[Source]:
    sources = []
    for description in chain:
        name = description["file"]
        try:
            path = destination.fetch(name, folder / name)
        except DestinationError as exc:
            raise RestoreError(str(exc)) from exc
        sources.append(Source(name=name, path=Path(path), description=description))
    return sources


# --- checking and decrypting -------------------------------------------------------------------------------


def known_migrations() -> set[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(getattr(migration, "replaces", []) or [])
    return known


def check_schema(header: dict[str, Any], name: str) -> None:
    known = known_migrations()
    unknown = [f"{app}.{m}" for app, names in header.get("schema", {}).items() for m in names if (app, m) not in known]
    if unknown:
        raise RestoreError(
            _(
                "%(name)s was made by a newer version of the CRM (migrations this code does not have: %(list)s). "
                "Restore it with the version that made it."
            )
            % {"name": name, "list": ", ".join(sorted(unknown)[:5])}
        )


def _decrypt(source: Source, identities: list[Any], target: Path) -> str:
    digest = hashlib.sha256()

    class _Hashing:
        def __init__(self, handle: IO[bytes]) -> None:
            self.handle = handle

        def read(self, size: int = -1) -> bytes:
            data = self.handle.read(size)
            digest.update(data)
            return data

    try:
        with open(source.path, "rb") as handle, open(target, "wb") as out:
            target.chmod(0o600)
            crypto.decrypt(_Hashing(handle), out, identities)
    except crypto.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            message = _("%(name)s cannot be decrypted with this key: it is encrypted to other keys.")
        else:
            message = _("%(name)s cannot be decrypted: it was altered or cut short (%(error)s).")
        raise RestoreError(message % {"name": source.name, "error": exc}) from exc
    return digest.hexdigest()


def _check_description(source: Source, sha256: str) -> None:
    description = source.description
    if not description:
        return
    size = source.path.stat().st_size
    if (description.get("sha256") and description["sha256"] != sha256) or description.get("size") not in (None, size):
        raise RestoreError(
            _("%(name)s does not match its description (size or SHA-256): it was altered or cut short.")
            % {"name": source.name}
        )


def _read_through(path: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check every table's rows and every file's bytes against their checksums; (header, trailer)."""
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    checksum = Checksum()
    file_digest = None
    file_size = 0
    table = ""
    try:
        with open(path, "rb") as stream:
            for tag, payload in archive.frames(stream):
                if header is None:
                    if tag != archive.HEADER:
                        raise ArchiveError("no header")
                    header = archive.read_json(payload)
                elif tag == archive.TABLE:
                    table = archive.read_json(payload)["table"]
                    checksum = Checksum()
                elif tag == archive.ROWS:
                    checksum.add_many(payload.split(b"\n"))
                elif tag == archive.TABLE_END:
                    end = archive.read_json(payload)
                    if (checksum.hex, checksum.count) != (end["checksum"], end["rows"]):
                        raise ArchiveError(f"the rows of {table} do not match their checksum")
                elif tag == archive.FILE:
                    file_digest, file_size = hashlib.sha256(), 0
                elif tag == archive.FILE_BYTES and file_digest is not None:
                    file_digest.update(payload)
                    file_size += len(payload)
                elif tag == archive.FILE_END and file_digest is not None:
                    end = archive.read_json(payload)
                    if (file_digest.hexdigest(), file_size) != (end["sha256"], end["size"]):
                        raise ArchiveError("an attached file does not match its checksum")
                    file_digest = None
                elif tag == archive.TRAILER:
                    trailer = archive.read_json(payload)
    except ArchiveError as exc:
        raise RestoreError(_("%(name)s is damaged: %(error)s.") % {"name": name, "error": exc}) from exc
    if header is None or trailer is None:
        raise RestoreError(_("%(name)s is incomplete: it has no end.") % {"name": name})
    return header, trailer


def prepare(
    sources: list[Source],
    identities: list[Any],
    folder: Path,
    *,
    until: dt.datetime | None = None,
    ledger_entries: list[dict[str, Any]] | None = None,
    progress: Progress = _no_progress,
) -> Prepared:
    """Check and decrypt the chain into ``folder`` (see the module's docstring)."""
    if not sources:
        raise RestoreError(_("Name the backup files to restore: a full backup, then its incrementals in order."))
    prepared = Prepared(folder=folder, ledger=list(ledger_entries or []))
    previous: dict[str, Any] | None = None
    for index, source in enumerate(sources):
        progress(2 + int(20 * index / len(sources)), _("Decrypting %(name)s") % {"name": source.name})
        plain = folder / f"{index:04d}.plain"
        sha256 = _decrypt(source, identities, plain)
        _check_description(source, sha256)
        with open(plain, "rb") as stream:
            try:
                header = archive.header_of(stream)
            except ArchiveError as exc:
                raise RestoreError(_("%(name)s is damaged: %(error)s.") % {"name": source.name, "error": exc}) from exc
        if header.get("format") != 1:
            raise RestoreError(_("%(name)s has a format this version cannot read.") % {"name": source.name})
        created = dt.datetime.fromisoformat(header["created_at"])
        if previous is None:
            if header.get("kind") != "full" or header.get("sequence") != 0:
                raise RestoreError(
                    _("%(name)s is not a full backup: a restore starts with one.") % {"name": source.name}
                )
            if until is not None and created > until:
                raise RestoreError(_("The full backup was made after the point in time asked for."))
        else:
            in_order = (
                header.get("kind") == "incremental"
                and header.get("chain") == previous["chain"]
                and header.get("parent") == previous["uid"]
                and header.get("sequence") == previous["sequence"] + 1
            )
            if not in_order:
                raise RestoreError(
                    _(
                        "%(name)s does not follow %(previous)s in the chain (out of order, from another chain, "
                        "or a backup between them is missing)."
                    )
                    % {"name": source.name, "previous": previous["uid"]}
                )
            if until is not None and created > until:
                plain.unlink(missing_ok=True)
                break
            if header.get("schema") != previous["schema"] or header.get("engine") != previous["engine"]:
                raise RestoreError(_("%(name)s was made with another schema than its chain.") % {"name": source.name})
        check_schema(header, source.name)
        header, trailer = _read_through(plain, source.name)
        prepared.files.append(
            {
                "name": source.name,
                "plain": str(plain),
                "header": header,
                "trailer": trailer,
                "size": source.path.stat().st_size,
                "sha256": sha256,
            }
        )
        previous = header
    prepared.save()
    return prepared
