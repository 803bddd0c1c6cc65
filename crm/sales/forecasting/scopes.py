"""The scopes a forecast is computed for, and who may see which.

A scope is everyone (``all``), one owner (``owner:<user id>``), one team (``team:<team id>``) or one
pipeline (``pipeline:<pipeline id>``); its key is what ``ForecastRun.scope`` stores.

Who sees what follows the person's data scope (core.access): ``all`` sees every forecast; ``team``
sees the forecasts of their teams and of each teammate; ``own`` sees their own only. The forecasts of
everyone and of a pipeline add up every owner's deals, so they are for data scope ``all`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core import access
from crm.core.choices import DataScope

MODULE = "sales"

ALL = "all"
OWNER = "owner"
TEAM = "team"
PIPELINE = "pipeline"
KINDS = (ALL, OWNER, TEAM, PIPELINE)
KIND_LABELS = {
    ALL: _("Everyone"),
    OWNER: _("People"),
    TEAM: _("Teams"),
    PIPELINE: _("Pipelines"),
}


@dataclass(frozen=True, order=True)
class Scope:
    kind: str
    id: int | None = None

    @property
    def key(self) -> str:
        return self.kind if self.kind == ALL else f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, key: Any) -> Scope | None:
        """The scope a key names, or ``None`` for anything malformed."""
        if not isinstance(key, str) or len(key) > 40:
            return None
        if key == ALL:
            return cls(ALL)
        kind, _sep, raw = key.partition(":")
        if kind not in (OWNER, TEAM, PIPELINE) or not raw.isdigit() or len(raw) > 12:
            return None
        number = int(raw)
        return cls(kind, number) if number > 0 else None

    def __str__(self) -> str:
        return self.key


EVERYONE = Scope(ALL)


def may_see(user: Any, scope: Scope) -> bool:
    """May ``user`` see the forecast of ``scope``?"""
    if not access.can(user, MODULE, "view"):
        return False
    data_scope = access.data_scope(user)
    if data_scope == DataScope.ALL:
        return True
    if scope.kind == OWNER:
        if scope.id == user.pk:
            return True
        return data_scope == DataScope.TEAM and scope.id in user.team_member_ids()
    if scope.kind == TEAM:
        return data_scope == DataScope.TEAM and scope.id in user.team_ids()
    return False


def default_scope(user: Any) -> Scope:
    """What the page shows first: everyone, else the person's first team, else their own."""
    data_scope = access.data_scope(user)
    if data_scope == DataScope.ALL:
        return EVERYONE
    if data_scope == DataScope.TEAM:
        team_ids = user.team_ids()
        if team_ids:
            return Scope(TEAM, min(team_ids))
    return Scope(OWNER, user.pk)


def visible_keys_filter(user: Any, *, field: str = "scope") -> Q | None:
    """A filter on stored scope keys limited to what ``user`` may see; ``None`` means every one."""
    if not access.can(user, MODULE, "view"):
        return Q(pk__in=[])
    data_scope = access.data_scope(user)
    if data_scope == DataScope.ALL:
        return None
    keys = {Scope(OWNER, user.pk).key}
    if data_scope == DataScope.TEAM:
        keys.update(Scope(OWNER, member).key for member in user.team_member_ids())
        keys.update(Scope(TEAM, team).key for team in user.team_ids())
    return Q(**{f"{field}__in": sorted(keys)})
