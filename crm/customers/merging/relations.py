"""Moving everything that points at merged records to the survivor, and back on undo.

The relations are discovered, not listed: every foreign key and many-to-many of any installed app that
points at a contact or a company (``_meta``), so the deals, tickets or campaigns of later modules move
without this code knowing them. What moved is written down (row ids per merged record) so an undo can
move exactly those rows back. Rows that would break a unique rule once moved (the survivor already
has that row) are deleted instead, and kept in full to be recreated on undo.

Every write goes through the journal: row moves through ``JournaledQuerySet``, deletions through the
delete signals, many-to-many changes through the related managers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import ForeignObjectRel, ManyToManyRel

from crm.core.journal import to_json
from crm.core.models import Attachment
from crm.core.querysets import JournaledQuerySet

from ..models import DuplicateCandidate
from .fields import ENTITIES

# Rows that name a record by content type and id rather than by a foreign key.
GENERIC_POINTERS: tuple[tuple[type[models.Model], str, str], ...] = ((Attachment, "content_type", "object_id"),)


@dataclass(frozen=True)
class Relation:
    """``model.field`` points at the merged kind of record: a foreign key (``many`` False) or a
    many-to-many field of another model (``many`` True)."""

    model: type[models.Model]
    field: str
    many: bool = False
    accessor: str | None = None  # the reverse manager's name on the record, for many-to-many

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field}"


def relations_to(model: type[models.Model]) -> list[Relation]:
    """Every relation of any installed model to ``model`` (duplicate pairs excepted: they follow rules
    of their own, see ``move_candidates``)."""
    found = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or rel.related_model is DuplicateCandidate:
            continue
        related: Any = rel.related_model
        if isinstance(rel, ManyToManyRel):
            through: Any = rel.through
            if not through._meta.auto_created:
                continue  # a through model of its own holds a foreign key: moved as rows below
            accessor = None if rel.hidden else rel.get_accessor_name()
            found.append(Relation(model=related, field=rel.field.name, many=True, accessor=accessor))
            continue
        if related._meta.auto_created:
            continue  # a row of a many-to-many table: moves with that many-to-many
        found.append(Relation(model=related, field=rel.field.name))
    return sorted(found, key=lambda relation: relation.label)


def attname(model: type[models.Model], name: str) -> str:
    """The column attribute of a concrete field (``company`` -> ``company_id``)."""
    field: Any = model._meta.get_field(name)
    return str(field.attname)


def rows(model: type[models.Model]) -> JournaledQuerySet[Any]:
    """All rows of ``model`` through a journaled queryset, whatever its default manager."""
    return JournaledQuerySet(model=model)


# --- full rows, for deleted records and rows that an undo recreates -----------------------------------


def row_values(obj: models.Model) -> dict[str, Any]:
    return {field.attname: to_json(field.value_from_object(obj)) for field in obj._meta.concrete_fields}


def row_from_values(model: type[models.Model], values: dict[str, Any]) -> Any:
    kwargs = {}
    for field in model._meta.concrete_fields:
        if field.attname in values:
            value = values[field.attname]
            kwargs[field.attname] = None if value is None else field.to_python(value)
    return model(**kwargs)


def m2m_values(obj: models.Model) -> dict[str, list[Any]]:
    return {
        field.name: sorted(getattr(obj, field.name).values_list("pk", flat=True))
        for field in obj._meta.local_many_to_many
    }


# --- the moves --------------------------------------------------------------------------------------------


def _unique_sets(model: type[models.Model], field_name: str) -> list[tuple[str, ...]]:
    """The unique rules of ``model`` that involve ``field_name`` (as field names)."""
    sets: list[tuple[str, ...]] = []
    field: Any = model._meta.get_field(field_name)
    if field.unique:
        sets.append((field_name,))
    for together in model._meta.unique_together:
        if field_name in together:
            sets.append(tuple(together))
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and field_name in constraint.fields
            and constraint.condition is None
        ):
            sets.append(tuple(constraint.fields))
    return sets


def _colliding(relation: Relation, merged_ids: Sequence[int], survivor_id: int, keep_out: set[int]) -> list[Any]:
    """Rows of merged records that would repeat a row of the survivor (or of an earlier merged record)
    under a unique rule once moved: the ones to delete instead."""
    model = relation.model
    colliding: dict[Any, Any] = {}
    for unique in _unique_sets(model, relation.field):
        others = [attname(model, name) for name in unique if name != relation.field]
        order = [survivor_id, *merged_ids]
        candidates = rows(model).filter(**{f"{relation.field}__in": order}).exclude(pk__in=keep_out)
        seen: set[tuple[Any, ...]] = set()
        listed = sorted(candidates, key=lambda row: (order.index(_pointer(row, relation)), row.pk))
        for row in listed:
            key = tuple(getattr(row, name) for name in others)
            if key in seen and _pointer(row, relation) != survivor_id:
                colliding[row.pk] = row
            seen.add(key)
    return list(colliding.values())


def _pointer(row: Any, relation: Relation) -> Any:
    return getattr(row, attname(type(row), relation.field))


def move_rows(
    *, model: type[models.Model], merged_ids: Sequence[int], survivor_id: int, snapshot: dict[str, Any]
) -> None:
    """Point every foreign key and many-to-many at the merged records to the survivor, writing what moved
    into ``snapshot`` (``moved``, ``deleted``, ``many``)."""
    keep_out = {survivor_id, *merged_ids}
    for relation in relations_to(model):
        if relation.many:
            _move_many(relation, model, merged_ids, survivor_id, snapshot)
            continue
        self_relation = relation.model is model
        excluded = keep_out if self_relation else set()
        colliding = _colliding(relation, merged_ids, survivor_id, excluded)
        if colliding:
            snapshot["deleted"].append(
                {"model": relation.model._meta.label_lower, "rows": [row_values(row) for row in colliding]}
            )
            rows(relation.model).filter(pk__in=[row.pk for row in colliding]).delete()
        pointer_name = attname(relation.model, relation.field)
        pending = rows(relation.model).filter(**{f"{relation.field}__in": merged_ids}).exclude(pk__in=excluded)
        by_record: dict[str, list[Any]] = defaultdict(list)
        for pk, pointer in pending.values_list("pk", pointer_name):
            by_record[str(pointer)].append(to_json(pk))
        if by_record:
            rows(relation.model).filter(pk__in=[pk for pks in by_record.values() for pk in pks]).update(
                **{relation.field: survivor_id}
            )
            snapshot["moved"].append(
                {"model": relation.model._meta.label_lower, "field": relation.field, "rows": dict(by_record)}
            )
    content_type = ContentType.objects.get_for_model(model)
    for pointer_model, type_field, id_field in GENERIC_POINTERS:
        pointing = rows(pointer_model).filter(**{type_field: content_type, f"{id_field}__in": merged_ids})
        generic: dict[str, list[Any]] = defaultdict(list)
        for pk, pointer in pointing.values_list("pk", id_field):
            generic[str(pointer)].append(to_json(pk))
        if generic:
            rows(pointer_model).filter(pk__in=[pk for pks in generic.values() for pk in pks]).update(
                **{id_field: survivor_id}
            )
            snapshot["moved"].append({"model": pointer_model._meta.label_lower, "field": id_field, "rows": generic})


def _move_many(
    relation: Relation,
    model: type[models.Model],
    merged_ids: Sequence[int],
    survivor_id: int,
    snapshot: dict[str, Any],
) -> None:
    """Another model's many-to-many to these records: its rows link the survivor instead (journaled
    through the related managers when the relation has a reverse accessor)."""
    m2m: Any = relation.model._meta.get_field(relation.field)
    through: Any = m2m.remote_field.through
    source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    links = list(through.objects.filter(**{f"{target}__in": merged_ids}).values_list(f"{target}_id", f"{source}_id"))
    if not links:
        return
    already = set(through.objects.filter(**{target: survivor_id}).values_list(f"{source}_id", flat=True))
    by_record: dict[str, list[Any]] = defaultdict(list)
    for record_id, other_id in links:
        by_record[str(record_id)].append(to_json(other_id))
    added = sorted({other for _record, other in links} - already)
    if relation.accessor:
        survivor = model._base_manager.get(pk=survivor_id)
        getattr(survivor, relation.accessor).add(*added)
        for record in model._base_manager.filter(pk__in=merged_ids):
            getattr(record, relation.accessor).clear()
    else:
        through.objects.filter(**{f"{target}__in": merged_ids}).delete()
        through.objects.bulk_create(
            [through(**{f"{source}_id": other, f"{target}_id": survivor_id}) for other in added]
        )
    snapshot["many"].append(
        {"model": relation.model._meta.label_lower, "field": relation.field, "rows": dict(by_record), "added": added}
    )


def move_candidates(*, entity: str, merged_ids: Sequence[int], survivor_id: int, snapshot: dict[str, Any]) -> None:
    """Duplicate pairs of the merged records: a pair inside the merge is resolved (deleted: its records
    are one now); a pair with an outside record becomes the survivor's pair with it, unless the survivor
    has that pair already. Every pair touched is kept in full for the undo."""
    a_field, b_field = (f"{entity}_a_id", f"{entity}_b_id")
    involved = {survivor_id, *merged_ids}
    touched = list(
        DuplicateCandidate.objects.filter(
            models.Q(**{f"{a_field}__in": involved}) | models.Q(**{f"{b_field}__in": involved})
        ).order_by("id")
    )
    merged = set(merged_ids)
    snapshot["candidates"] = [
        row_values(row) for row in touched if {getattr(row, a_field), getattr(row, b_field)} & merged
    ]
    taken = {
        (getattr(row, a_field), getattr(row, b_field))
        for row in touched
        if getattr(row, a_field) not in merged_ids and getattr(row, b_field) not in merged_ids
    }
    doomed, moves = [], []
    for row in touched:
        first, second = getattr(row, a_field), getattr(row, b_field)
        if first not in merged_ids and second not in merged_ids:
            continue
        first = survivor_id if first in involved else first
        second = survivor_id if second in involved else second
        pair = (min(first, second), max(first, second))
        if first == second or pair in taken:
            doomed.append(row.pk)
            continue
        taken.add(pair)
        setattr(row, a_field, pair[0])
        setattr(row, b_field, pair[1])
        moves.append(row)
    DuplicateCandidate.objects.filter(pk__in=doomed).delete()
    if moves:
        DuplicateCandidate.objects.bulk_update(moves, [a_field.removesuffix("_id"), b_field.removesuffix("_id")])


# --- back again -------------------------------------------------------------------------------------------


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None  # the app that held these rows is gone: nothing to put back


def restore_rows(*, model: type[models.Model], survivor_id: int, snapshot: dict[str, Any]) -> int:
    """Undo ``move_rows`` (the merged records exist again). Rows moved on since are left where they are.
    The number of rows that could not be put back."""
    missed = 0
    for entry in snapshot.get("deleted", []):
        target = _model(entry["model"])
        if target is None:
            continue
        wanted = [row_from_values(target, values) for values in entry["rows"]]
        existing = set(rows(target).filter(pk__in=[obj.pk for obj in wanted]).values_list("pk", flat=True))
        rows(target).bulk_create([obj for obj in wanted if obj.pk not in existing])
    for entry in snapshot.get("moved", []):
        target = _model(entry["model"])
        if target is None:
            continue
        for record_id, pks in entry["rows"].items():
            moved_back = (
                rows(target)
                .filter(pk__in=pks, **{entry["field"]: survivor_id})
                .update(**{entry["field"]: int(record_id)})
            )
            missed += len(pks) - moved_back
    for entry in snapshot.get("many", []):
        target = _model(entry["model"])
        if target is None:
            continue
        _restore_many(target, entry, model, survivor_id)
    return missed


def _restore_many(
    target: type[models.Model], entry: dict[str, Any], model: type[models.Model], survivor_id: int
) -> None:
    m2m: Any = target._meta.get_field(entry["field"])
    through: Any = m2m.remote_field.through
    source, destination = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    accessor = None if m2m.remote_field.hidden else m2m.remote_field.get_accessor_name()
    wanted = [other for other_ids in entry["rows"].values() for other in other_ids]
    alive = set(target._base_manager.filter(pk__in=wanted).values_list("pk", flat=True))
    for record_id, other_ids in entry["rows"].items():
        present = [other for other in other_ids if other in alive]
        if accessor:
            getattr(model._base_manager.get(pk=int(record_id)), accessor).add(*present)
        else:
            through.objects.bulk_create(
                [through(**{f"{source}_id": other, f"{destination}_id": int(record_id)}) for other in present],
                ignore_conflicts=True,
            )
    if accessor:
        getattr(model._base_manager.get(pk=survivor_id), accessor).remove(*entry["added"])
    else:
        through.objects.filter(**{destination: survivor_id, f"{source}__in": entry["added"]}).delete()


def restore_candidates(*, entity: str, snapshot: dict[str, Any]) -> None:
    """Put the duplicate pairs touched by the merge back as they were (records deleted since: skipped)."""
    model: Any = ENTITIES[entity]
    saved = snapshot.get("candidates", [])
    if not saved:
        return
    ids_needed = {values[f"{entity}_{side}_id"] for values in saved for side in ("a", "b")}
    alive = set(model._base_manager.filter(pk__in=ids_needed).values_list("pk", flat=True))
    wanted = [
        row_from_values(DuplicateCandidate, values)
        for values in saved
        if values[f"{entity}_a_id"] in alive and values[f"{entity}_b_id"] in alive
    ]
    # A pair the merge moved to the survivor is put back under its own id; a deleted one is recreated.
    DuplicateCandidate.objects.filter(pk__in=[row.pk for row in wanted]).delete()
    DuplicateCandidate.objects.bulk_create(wanted)
