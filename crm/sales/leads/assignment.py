"""Who gets a lead: the ordered assignment rules, the fallback owner, and the reassignment of leads
nobody worked in time.

The active rules are tried in their order. A rule matches a lead when every condition it sets holds
(an empty list of countries, regions, industries, company sizes or sources means "any"). The first
matching rule that finds somebody available assigns the lead:

- round robin: the next active, present member of the rule's team after the one who got the last
  lead (members in a stable order, by id); the rule's row is locked while its cursor moves, so two
  leads created at the same moment never go to the same person by mistake;
- fewest open leads: the active, present member of the team with the fewest leads still being
  worked (new, contacted, qualified), ties by id;
- a named person, unless away or inactive.

When no rule matches, or no matching rule finds anybody, the lead goes to the fallback owner of the
sales settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core.services import notification_create
from crm.core.versioning import save_versioned

from ..choices import OPEN_LEAD_STATUSES, AssignmentMethod, LeadStatus
from ..models import AssignmentRule, Lead, SalesSettings


@dataclass(frozen=True)
class Assignment:
    owner: Any  # a user, or None when nobody could be found
    rule: AssignmentRule | None  # the rule that chose, None for the fallback owner


def _folded(values: Iterable[Any]) -> set[str]:
    return {str(value).strip().casefold() for value in values if str(value).strip()}


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    """Does every condition the rule sets hold for the lead?"""
    conditions = (
        (rule.countries, lead.country),
        (rule.regions, lead.region),
        (rule.industries, lead.industry),
        (rule.company_sizes, lead.company_size),
        (rule.sources, lead.source),
    )
    for wanted, value in conditions:
        if wanted and str(value or "").strip().casefold() not in _folded(wanted):
            return False
    return True


def available_users() -> QuerySet[Any]:
    """People who may get new leads: active and not away."""
    return get_user_model().objects.filter(is_active=True, is_away=False)


def _team_members(rule: AssignmentRule, exclude: set[Any]) -> list[int]:
    if rule.team_id is None:
        return []
    return list(
        available_users().filter(teams=rule.team_id).exclude(pk__in=exclude).order_by("id").values_list("id", flat=True)
    )


def _round_robin(rule: AssignmentRule, exclude: set[Any]) -> int | None:
    # Lock the rule's row (PostgreSQL; SQLite serialises writers anyway): the cursor moves one at a time.
    locked = AssignmentRule.objects.select_for_update().filter(pk=rule.pk).values_list("last_assigned", flat=True)
    cursor = next(iter(locked), None)
    members = _team_members(rule, exclude)
    if not members:
        return None
    chosen = next((pk for pk in members if cursor is None or pk > cursor), members[0])
    # Bookkeeping of the rule, not a change anyone made: a plain update, not journaled.
    AssignmentRule.objects.filter(pk=rule.pk).update(last_assigned=chosen)
    rule.last_assigned_id = chosen
    return chosen


def open_lead_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Lead.objects.filter(owner__in=user_ids, status__in=OPEN_LEAD_STATUSES)
        .order_by()
        .values_list("owner")
        .annotate(count=Count("id"))
    )
    return dict(rows)


def _least_open(rule: AssignmentRule, exclude: set[Any]) -> int | None:
    list(AssignmentRule.objects.select_for_update().filter(pk=rule.pk).values_list("pk", flat=True))
    members = _team_members(rule, exclude)
    if not members:
        return None
    counts = open_lead_counts(members)
    return min(members, key=lambda pk: (counts.get(pk, 0), pk))


def _named(rule: AssignmentRule, exclude: set[Any]) -> int | None:
    if rule.user_id is None or rule.user_id in exclude:
        return None
    return rule.user_id if available_users().filter(pk=rule.user_id).exists() else None


CHOOSERS = {
    AssignmentMethod.ROUND_ROBIN: _round_robin,
    AssignmentMethod.LEAST_OPEN: _least_open,
    AssignmentMethod.USER: _named,
}


def active_rules() -> list[AssignmentRule]:
    return list(AssignmentRule.objects.filter(is_active=True).order_by("order", "id"))


@transaction.atomic
def choose_owner(lead: Lead, *, exclude: Iterable[Any] = (), rules: list[AssignmentRule] | None = None) -> Assignment:
    """The person the rules give ``lead`` to (never one of ``exclude``), or the fallback owner."""
    skip = {pk for pk in exclude if pk is not None}
    for rule in rules if rules is not None else active_rules():
        if not rule_matches(rule, lead):
            continue
        chooser = CHOOSERS.get(AssignmentMethod(rule.method)) if rule.method in AssignmentMethod.values else None
        if chooser is None:
            continue
        chosen = chooser(rule, skip)
        if chosen is not None:
            return Assignment(owner=get_user_model().objects.get(pk=chosen), rule=rule)
    fallback = SalesSettings.load().fallback_owner
    if fallback is not None and fallback.is_active and fallback.pk not in skip:
        return Assignment(owner=fallback, rule=None)
    return Assignment(owner=None, rule=None)


def team_for(owner: Any, rule: AssignmentRule | None = None) -> Any:
    """The team a lead joins with its owner: the rule's team when the owner is in it, else the owner's first."""
    if owner is None:
        return None
    team_ids = owner.team_ids() if hasattr(owner, "team_ids") else []
    if rule is not None and rule.team_id is not None and rule.team_id in team_ids:
        return rule.team_id
    return team_ids[0] if team_ids else None


# --- notifications ---------------------------------------------------------------------------------


def notify_assignee(*, lead: Lead, owner: Any, reassigned: bool = False) -> None:
    """Tell the new owner (in their own language) that the lead is theirs, with a link to it."""
    with translation.override(getattr(owner, "language", "") or None):
        if reassigned:
            title = _("A lead was passed on to you: %(name)s") % {"name": lead.name}
            body = _("Nobody worked it in time. Get in touch soon.")
        else:
            title = _("New lead assigned to you: %(name)s") % {"name": lead.name}
            body = " · ".join(part for part in (lead.company_name, lead.email, lead.get_source_display()) if part)
        notification_create(recipient=owner, title=title, body=body, url=lead.get_absolute_url())


def managers_of(previous_owner: Any) -> list[Any]:
    """Who is told of a reassignment: the sales managers (and managers) of the previous owner's teams,
    or else the fallback owner."""
    User = get_user_model()
    people: list[Any] = []
    if previous_owner is not None:
        team_ids = previous_owner.team_ids()
        if team_ids:
            people = list(
                User.objects.filter(is_active=True)
                .filter(Q(teams__in=team_ids, role__builtin="sales_manager") | Q(managed_teams__in=team_ids))
                .exclude(pk=previous_owner.pk)
                .distinct()
                .order_by("id")
            )
    if not people:
        fallback = SalesSettings.load().fallback_owner
        if fallback is not None and fallback.is_active:
            people = [fallback]
    return people


def notify_managers(*, lead: Lead, previous_owner: Any, new_owner: Any) -> None:
    for manager in managers_of(previous_owner):
        if new_owner is not None and manager.pk == new_owner.pk:
            continue  # told already, as the new owner
        with translation.override(getattr(manager, "language", "") or None):
            if new_owner is not None:
                title = _("Lead %(name)s reassigned: not worked in time") % {"name": lead.name}
                body = _("%(before)s did not work it in time; it now belongs to %(after)s.") % {
                    "before": previous_owner,
                    "after": new_owner,
                }
            else:
                title = _("Lead %(name)s is waiting: not worked in time") % {"name": lead.name}
                body = _("%(before)s did not work it in time and nobody else is available to take it.") % {
                    "before": previous_owner
                }
            notification_create(recipient=manager, title=title, body=body, url=lead.get_absolute_url())


# --- untouched leads -------------------------------------------------------------------------------

REASSIGN_BATCH = 500


def untouched_leads(*, now: datetime, hours: int) -> QuerySet[Lead]:
    """New leads nobody worked since they were assigned, longer ago than ``hours``."""
    return Lead.objects.filter(
        status=LeadStatus.NEW,
        touched_at__isnull=True,
        owner__isnull=False,
        assigned_at__lt=now - timedelta(hours=hours),
    )


def reassign_untouched(*, now: datetime | None = None) -> int:
    """Give each untouched lead to the next person by the same rules (never its current owner) and
    tell them and the previous owner's manager. Safe to run again at once: a reassigned lead's clock
    starts again, so it is not picked twice. Returns how many leads changed hands."""
    settings = SalesSettings.load()
    hours = settings.lead_response_hours
    if not hours:
        return 0
    now = now or timezone.now()
    ids = list(
        untouched_leads(now=now, hours=hours)
        .order_by("assigned_at", "id")
        .values_list("id", flat=True)[:REASSIGN_BATCH]
    )
    moved = 0
    for lead_id in ids:
        moved += _reassign_one(lead_id, now=now, hours=hours)
    return moved


@transaction.atomic
def _reassign_one(lead_id: int, *, now: datetime, hours: int) -> int:
    lead = untouched_leads(now=now, hours=hours).select_for_update().filter(pk=lead_id).first()
    if lead is None:
        return 0  # worked, converted or reassigned in the meantime
    previous = lead.owner
    assignment = choose_owner(lead, exclude=[lead.owner_id])
    if assignment.owner is None:
        # Nobody else can take it: it stays, its clock starts again, and the manager hears of it once
        # per period rather than every few minutes.
        models.QuerySet.update(Lead.objects.filter(pk=lead.pk), assigned_at=now)  # bookkeeping, not journaled
        notify_managers(lead=lead, previous_owner=previous, new_owner=None)
        return 0
    lead.owner = assignment.owner
    lead.team_id = team_for(assignment.owner, assignment.rule)
    lead.assigned_at = now
    # A version bump too: somebody editing the lead right now gets a conflict, not a silent undo.
    save_versioned(lead, expected_version=None, update_fields=["owner", "team", "assigned_at"])
    notify_assignee(lead=lead, owner=assignment.owner, reassigned=True)
    notify_managers(lead=lead, previous_owner=previous, new_owner=assignment.owner)
    return 1
