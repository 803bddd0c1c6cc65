"""Reads of the forecast and of quotas, limited to what the person may see.

Forecasts: see ``scopes`` (data scope all: every forecast; team: their teams' and teammates'; own:
their own). Quotas follow the same rule: everyone's with data scope all, their teams' and teammates'
with data scope team, their own with data scope own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet

from crm.accounts.models import Role, Team
from crm.core import access
from crm.core.choices import DataScope

from ..choices import ForecastStatus
from ..models import ForecastRun, Quota
from .scopes import ALL, MODULE, OWNER, PIPELINE, TEAM, Scope, may_see, visible_keys_filter

# --- forecasts --------------------------------------------------------------------------------------------


def forecast_latest(*, user: Any, scope: Scope) -> ForecastRun | None:
    """The newest stored run of ``scope`` (ready or failed), or ``None``; ``None`` too if the person may
    not see the scope."""
    if not may_see(user, scope):
        return None
    return (
        ForecastRun.objects.filter(scope=scope.key, status__in=[ForecastStatus.READY, ForecastStatus.FAILED])
        .order_by("-created_at", "-id")
        .first()
    )


def forecast_latest_list(*, user: Any) -> QuerySet[ForecastRun]:
    """The newest ready run of every scope the person may see."""
    runs = ForecastRun.objects.filter(status=ForecastStatus.READY)
    condition = visible_keys_filter(user)
    if condition is not None:
        runs = runs.filter(condition)
    newest = runs.values("scope").annotate(newest=Max("id")).values("newest")
    return ForecastRun.objects.filter(pk__in=newest)


def forecast_run_list(*, user: Any) -> QuerySet[ForecastRun]:
    """Every stored run the person may see (the API's detail reads one of them by id)."""
    runs = ForecastRun.objects.all()
    condition = visible_keys_filter(user)
    return runs if condition is None else runs.filter(condition)


def forecast_index() -> list[dict[str, Any]]:
    """The scopes the newest computation stored (key and label each), for the scope chooser when the
    chosen scope has no run of its own. Filter it with ``scope_choices`` before showing it."""
    newest = ForecastRun.objects.filter(status=ForecastStatus.READY).order_by("-created_at", "-id").first()
    return list((newest.result or {}).get("scopes") or []) if newest is not None else []


def scope_choices(*, user: Any, index: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chooser's groups from a run's index of computed scopes, limited to what the person may see:
    ``[{"kind": ..., "options": [{"key", "label"}]}]``. No query beyond the person's teams."""
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for entry in index:
        scope = Scope.parse(entry.get("key"))
        if scope is not None and may_see(user, scope):
            groups[scope.kind].append({"key": scope.key, "label": str(entry.get("label") or "")})
    return [{"kind": kind, "options": groups[kind]} for kind in (ALL, TEAM, OWNER, PIPELINE) if groups.get(kind)]


# --- quotas -----------------------------------------------------------------------------------------------


def quota_reach(user: Any, *, action: str = "view") -> tuple[set[int] | None, set[int] | None]:
    """(people ids, team ids) whose quotas ``user`` may ``action``; ``None`` means all of them.

    Setting quotas (``edit``) is a manager's work: it needs data scope team (their teams and teammates)
    or all; with data scope own a person sees their own quotas and changes none.
    """
    if not access.can(user, MODULE, action):
        return set(), set()
    data_scope = access.data_scope(user)
    if data_scope == DataScope.ALL:
        return None, None
    if data_scope == DataScope.TEAM:
        return set(user.team_member_ids()) | ({user.pk} if action == "view" else set()), set(user.team_ids())
    return ({user.pk} if action == "view" else set()), set()


def quota_list(*, user: Any, action: str = "view") -> QuerySet[Quota]:
    people, teams = quota_reach(user, action=action)
    quotas = Quota.objects.select_related("user", "team")
    if people is None:
        return quotas
    return quotas.filter(Q(user_id__in=sorted(people)) | Q(team_id__in=sorted(teams or ())))


def _seller_role_ids() -> list[int]:
    """Roles that may work deals (create them): the people who carry a quota."""
    return [role.pk for role in Role.objects.only("pk", "permissions") if role.allows(MODULE, "create")]


def quota_people(*, user: Any) -> QuerySet[Any]:
    """The people of the quota grid: active people whose role works deals, and anyone who has a quota,
    among those ``user`` may see."""
    people, _teams = quota_reach(user)
    users = get_user_model().objects.filter(
        Q(is_active=True, role_id__in=_seller_role_ids())
        | Q(pk__in=Quota.objects.filter(user__isnull=False).values("user"))
    )
    if people is not None:
        users = users.filter(pk__in=sorted(people))
    return users.order_by("first_name", "last_name", "username", "pk")


def quota_teams(*, user: Any) -> QuerySet[Team]:
    _people, teams = quota_reach(user)
    found = Team.objects.all()
    if teams is not None:
        found = found.filter(pk__in=sorted(teams))
    return found.order_by("name", "pk")


def quota_cells(
    *, people: list[Any] | None = None, teams: list[Any] | None = None, months: list[date]
) -> dict[tuple[str, int, date], Quota]:
    """The quotas of the listed people or teams in ``months``: (kind, id, month) -> quota (one query)."""
    condition = Q(pk__in=[])
    if people:
        condition |= Q(user_id__in=[person.pk for person in people])
    if teams:
        condition |= Q(team_id__in=[team.pk for team in teams])
    found: dict[tuple[str, int, date], Quota] = {}
    for quota in Quota.objects.filter(condition, month__gte=months[0], month__lte=months[-1]):
        if quota.user_id is not None:
            found[(OWNER, quota.user_id, quota.month)] = quota
        elif quota.team_id is not None:
            found[(TEAM, quota.team_id, quota.month)] = quota
    return found


def quota_totals(
    *, scopes: list[Scope], first: date, last: date, members: dict[int, set[int]]
) -> dict[Scope, dict[str, Decimal]]:
    """Each scope's quota per month key, for the job (one query).

    A person: their quota. A team: the team's quota, or the sum of its members' quotas when the team has
    none that month. Everyone: the sum of the people's quotas, or of the teams' when nobody has one.
    Pipelines have no quota.
    """
    from .series import month_key

    people: dict[int, dict[str, Decimal]] = defaultdict(dict)
    teams: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for user_id, team_id, month, amount in Quota.objects.filter(month__gte=first, month__lte=last).values_list(
        "user_id", "team_id", "month", "amount"
    ):
        if user_id is not None:
            people[user_id][month_key(month)] = amount
        elif team_id is not None:
            teams[team_id][month_key(month)] = amount

    def summed(rows: list[dict[str, Decimal]]) -> dict[str, Decimal]:
        total: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            for key, amount in row.items():
                total[key] += amount
        return dict(total)

    totals: dict[Scope, dict[str, Decimal]] = {}
    for scope in scopes:
        if scope.kind == OWNER:
            totals[scope] = dict(people.get(scope.id or 0, {}))
        elif scope.kind == TEAM:
            own = teams.get(scope.id or 0, {})
            by_members = summed([people[member] for member in members.get(scope.id or 0, set()) if member in people])
            totals[scope] = {**by_members, **own}
        elif scope.kind == ALL:
            by_teams = summed(list(teams.values()))
            by_people = summed(list(people.values()))
            totals[scope] = {**by_teams, **by_people}
        else:
            totals[scope] = {}
    return totals


def scope_labels(scopes: list[Scope]) -> dict[Scope, str]:
    """Names of the people, teams and pipelines of ``scopes`` (three queries at most)."""
    from ..models import Pipeline

    ids: dict[str, list[int]] = defaultdict(list)
    for scope in scopes:
        if scope.id is not None:
            ids[scope.kind].append(scope.id)
    labels: dict[Scope, str] = {}
    if ids[OWNER]:
        for person in get_user_model().objects.filter(pk__in=ids[OWNER]):
            labels[Scope(OWNER, person.pk)] = str(person)
    if ids[TEAM]:
        for team in Team.objects.filter(pk__in=ids[TEAM]):
            labels[Scope(TEAM, team.pk)] = team.name
    if ids[PIPELINE]:
        for pipeline in Pipeline.objects.filter(pk__in=ids[PIPELINE]):
            labels[Scope(PIPELINE, pipeline.pk)] = pipeline.name
    return labels
