"""Every write of saved views. Only the owner renames, shares or deletes a view; a view is shared with
one of the owner's own teams or with nobody. Each change is journaled (SavedView is registered)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import access
from ..models import SavedView
from .queries import clean_query, normalize_query
from .registry import ListSpec, get_list, list_url

NAME_MAX_LENGTH = 80


def _list_spec(*, actor: Any, list_key: str) -> ListSpec:
    spec = get_list(list_key)
    if spec is None:
        raise ValidationError({"list_key": _("This list does not take saved views.")})
    if not access.can(actor, spec.module, "view"):
        raise PermissionDenied
    return spec


def _clean_name(name: Any) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": _("Keep the name to %(max)d characters or fewer.") % {"max": NAME_MAX_LENGTH}})
    return name


def _clean_team(*, actor: Any, team: Any) -> int | None:
    """The id of the team to share with (one of the actor's teams), or ``None`` for a private view."""
    if team in (None, ""):
        return None
    team_id = getattr(team, "pk", team)
    try:
        team_id = int(team_id)
    except (TypeError, ValueError):
        team_id = None
    if team_id is None or team_id not in actor.team_ids():
        raise ValidationError({"team": _("You can share a view only with a team you belong to.")})
    return team_id


def _clean_columns(spec: ListSpec, columns: Iterable[Any] | None) -> list[str]:
    """The chosen columns in the list's order (unknown keys dropped); nothing chosen: the defaults."""
    if columns is None:
        return list(spec.default_column_keys)
    wanted = {str(column) for column in columns}
    return [key for key in spec.column_keys() if key in wanted]


def _check_unique(*, owner_id: Any, list_key: str, name: str, exclude_pk: Any = None) -> None:
    clash = SavedView.objects.filter(owner_id=owner_id, list_key=list_key, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": _("You already have a view with this name. Choose another name.")})


def _save(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.full_clean(validate_unique=False, validate_constraints=False)
            view.save()
    except IntegrityError as exc:  # a second request with the same name won the race
        raise ValidationError({"name": _("You already have a view with this name. Choose another name.")}) from exc
    return view


def saved_view_create(
    *,
    actor: Any,
    list_key: str,
    name: str,
    query: str = "",
    columns: Iterable[Any] | None = None,
    team: Any = None,
) -> SavedView:
    """Save a list's current view: its filters and sort (``query``, the list's query string) and the
    columns chosen (``columns``; ``None`` means the list's default columns)."""
    spec = _list_spec(actor=actor, list_key=list_key)
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for key, clean in (
        ("name", lambda: _clean_name(name)),
        ("query", lambda: clean_query(spec, query or "")),
        ("team", lambda: _clean_team(actor=actor, team=team)),
    ):
        try:
            cleaned[key] = clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_unique(owner_id=actor.pk, list_key=spec.key, name=cleaned["name"])
    view = SavedView(
        list_key=spec.key,
        name=cleaned["name"],
        owner=actor,
        team_id=cleaned["team"],
        query=cleaned["query"],
        columns=_clean_columns(spec, columns),
    )
    return _save(view)


def _require_owner(*, actor: Any, saved_view: SavedView) -> None:
    if not getattr(actor, "is_authenticated", False) or saved_view.owner_id != actor.pk:
        raise PermissionDenied


def saved_view_update(*, actor: Any, saved_view: SavedView, name: str, team: Any = None) -> SavedView:
    """Rename a view, share it with one of the owner's teams, or make it private again (``team=None``)."""
    _require_owner(actor=actor, saved_view=saved_view)
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for key, clean in (("name", lambda: _clean_name(name)), ("team", lambda: _clean_team(actor=actor, team=team))):
        try:
            cleaned[key] = clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_unique(owner_id=actor.pk, list_key=saved_view.list_key, name=cleaned["name"], exclude_pk=saved_view.pk)
    saved_view.name = cleaned["name"]
    saved_view.team_id = cleaned["team"]
    return _save(saved_view)


def saved_view_delete(*, actor: Any, saved_view: SavedView) -> None:
    _require_owner(actor=actor, saved_view=saved_view)
    with transaction.atomic():
        saved_view.delete()


def saved_view_apply(*, user: Any, saved_view: SavedView, session: Any) -> str:
    """Make ``saved_view``'s columns the user's choice for its list (in the session) and answer the
    list's address with its filters and sort. The caller has fetched the view among those the user
    may see."""
    spec = _list_spec(actor=user, list_key=saved_view.list_key)
    columns = saved_view.columns if isinstance(saved_view.columns, list) else None
    session[spec.session_key] = _clean_columns(spec, columns)
    return list_url(spec, normalize_query(spec, saved_view.query or ""))
