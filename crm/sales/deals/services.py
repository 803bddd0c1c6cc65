"""Every write of pipelines, stages and deals: keyword-only, atomic, permission-checked, journaled.

A deal's stage belongs to its pipeline; its status follows the stage's kind (open, won, lost) and its
probability the stage's default whenever the stage changes. Every stage change is a row
(``DealStageChange``): who, when, from, to. Two people moving the same card at once: the version
check lets one win; the other gets a conflict and sees the current state.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import access, money
from crm.core.versioning import save_versioned

from ..choices import DealStatus, StageKind
from ..models import Competitor, Deal, DealContact, DealProduct, DealStageChange, LossReason, Pipeline, Product, Stage

MODULE = "sales"
DEAL_FIELDS = (
    "name",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "probability",
    "expected_close_date",
    "company",
    "source",
    "next_step",
    "description",
    "owner",
    "team",
)
MAX_NAME = 200


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, MODULE, action):
        raise PermissionDenied


def _check_visible(actor: Any, obj: Any, field: str) -> None:
    if obj is not None and actor is not None and not type(obj).objects.visible_to(actor).filter(pk=obj.pk).exists():
        raise ValidationError({field: _("Select a valid choice.")})


def _clean_amount(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        return money.parse_amount(value)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.messages}) from None


def _clean_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({"expected_close_date": _("Enter a date as YYYY-MM-DD.")}) from None


def _owner_team(owner: Any) -> Any:
    """A new record joins its owner's first team, so that teammates see it."""
    team_ids = owner.team_ids() if hasattr(owner, "team_ids") else []
    return team_ids[0] if team_ids else None


def _first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()
    if stage is None:
        raise ValidationError({"stage": _("This pipeline has no open stage.")})
    return stage


def _apply(deal: Deal, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(DEAL_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    changed: list[str] = []
    for name, value in data.items():
        if name == "amount":
            value = _clean_amount(value)
        elif name == "currency":
            try:
                value = money.validate_currency(value)
            except ValidationError as exc:
                raise ValidationError({"currency": exc.messages}) from None
        elif name == "expected_close_date":
            value = _clean_date(value)
        elif name in {"name", "source", "next_step"}:
            value = (value or "").strip()
        elif name == "description":
            value = value or ""
        setattr(deal, name, value)
        changed.append(name)
    if len(deal.name) > MAX_NAME:
        raise ValidationError({"name": _("At most %(count)d characters.") % {"count": MAX_NAME}})
    return changed


def _set_status(deal: Deal, *, probability_from_stage: bool = True) -> None:
    kind = deal.stage.kind
    statuses = {StageKind.OPEN: DealStatus.OPEN, StageKind.WON: DealStatus.WON, StageKind.LOST: DealStatus.LOST}
    deal.status = statuses[StageKind(kind)]
    if probability_from_stage or kind != StageKind.OPEN:
        deal.probability = deal.stage.probability if kind == StageKind.OPEN else (100 if kind == StageKind.WON else 0)
    if kind == StageKind.OPEN:
        deal.closed_on = None
        deal.loss_reason = None
        deal.lost_to = None
    elif deal.closed_on is None:
        deal.closed_on = timezone.localdate()


def _record_stage_change(deal: Deal, *, from_stage: Stage | None, actor: Any) -> None:
    DealStageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        changed_by=actor if getattr(actor, "pk", None) else None,
        changed_at=timezone.now(),
        amount=deal.amount,
    )


def _top_rank(stage: Stage) -> int:
    lowest = Deal.objects.filter(stage=stage).order_by("rank").values_list("rank", flat=True).first()
    return (lowest or 0) - 1


def _set_contacts(deal: Deal, contacts: Any, actor: Any) -> None:
    if contacts is None:
        return
    wanted: dict[Any, str] = {}
    for item in contacts:
        contact, role = item if isinstance(item, tuple) else (item, "")
        _check_visible(actor, contact, "contacts")
        wanted[contact.pk] = (role or "").strip()[:100]
    existing = {row.contact_id: row for row in deal.contact_roles.all()}
    for pk in set(existing) - set(wanted):
        existing[pk].delete()
    for pk, role in wanted.items():
        if pk in existing:
            if existing[pk].role != role:
                existing[pk].role = role
                existing[pk].save(update_fields=["role"])
        else:
            DealContact.objects.create(deal=deal, contact_id=pk, role=role)


def _set_competitors(deal: Deal, competitors: Any) -> None:
    if competitors is not None:
        deal.competitors.set(list(competitors))


@transaction.atomic
def deal_create(*, actor: Any, data: dict[str, Any]) -> Deal:
    """Create a deal. ``data`` may hold ``contacts`` (contacts, or (contact, role) pairs) and
    ``competitors`` besides the fields of ``DEAL_FIELDS``; the stage defaults to the pipeline's first
    open stage, the pipeline to the default one, the currency to the company's."""
    if actor is not None:
        _require(actor, "create")
    data = dict(data)
    contacts = data.pop("contacts", None)
    competitors = data.pop("competitors", None)
    deal = Deal(owner=actor if actor is not None else None, currency=money.base_currency())
    _apply(deal, data)
    if deal.pipeline_id is None:
        from .selectors import pipeline_default

        pipeline = pipeline_default()
        if pipeline is None:
            raise ValidationError({"pipeline": _("Create a pipeline first.")})
        deal.pipeline = pipeline
    if deal.stage_id is None:
        deal.stage = _first_open_stage(deal.pipeline)
    if deal.stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    _check_visible(actor, deal.company, "company")
    if not deal.name:
        raise ValidationError({"name": _("Give the deal a name.")})
    if deal.team_id is None and deal.owner is not None:
        deal.team_id = _owner_team(deal.owner)
    _set_status(deal, probability_from_stage="probability" not in data)
    deal.stage_entered_at = timezone.now()
    deal.rank = _top_rank(deal.stage)
    deal.full_clean()
    deal.save()
    _set_contacts(deal, contacts, actor)
    _set_competitors(deal, competitors)
    _record_stage_change(deal, from_stage=None, actor=actor)
    return deal


@transaction.atomic
def deal_update(*, actor: Any, deal: Deal, data: dict[str, Any], version: int | None) -> Deal:
    """Edit a deal's fields. A change of stage goes through the same rules as a move on the board."""
    _require(actor, "edit")
    data = dict(data)
    contacts = data.pop("contacts", None)
    competitors = data.pop("competitors", None)
    loss_reason = data.pop("loss_reason", None)
    lost_to = data.pop("lost_to", None)
    before_stage = deal.stage
    before_company = deal.company_id
    fields = _apply(deal, data)
    if deal.stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    if deal.company_id != before_company:
        _check_visible(actor, deal.company, "company")
    if not deal.name:
        raise ValidationError({"name": _("Give the deal a name.")})
    moved = deal.stage_id != before_stage.pk
    if moved:
        _set_status(deal, probability_from_stage="probability" not in data)
        deal.stage_entered_at = timezone.now()
        fields += ["status", "probability", "closed_on", "loss_reason", "lost_to", "stage_entered_at"]
    if deal.status == DealStatus.LOST:
        _apply_loss(deal, loss_reason, lost_to)
        fields += ["loss_reason", "lost_to"]
    save_versioned(deal, expected_version=version, update_fields=list(dict.fromkeys(fields)))
    _set_contacts(deal, contacts, actor)
    _set_competitors(deal, competitors)
    if moved:
        _record_stage_change(deal, from_stage=before_stage, actor=actor)
    return deal


def _apply_loss(deal: Deal, loss_reason: LossReason | None, lost_to: Competitor | None) -> None:
    """A lost deal says why (the win/loss report counts on it), whichever path closed it."""
    if loss_reason is not None:
        deal.loss_reason = loss_reason
    if lost_to is not None:
        deal.lost_to = lost_to
    if deal.loss_reason is None:
        raise ValidationError({"loss_reason": _("Say why the deal was lost.")})


@transaction.atomic
def deal_move(
    *,
    actor: Any,
    deal: Deal,
    stage: Stage,
    version: int | None,
    before: Deal | None = None,
    loss_reason: LossReason | None = None,
    lost_to: Competitor | None = None,
) -> Deal:
    """Move a deal to ``stage`` of its own pipeline (the board's drag and drop).

    ``before`` is the card it was dropped above (None: at the bottom of the column). A stage of
    another pipeline is refused. A stale ``version`` (someone else moved or edited it first) raises
    ``ConflictError`` and changes nothing.
    """
    _require(actor, "edit")
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    from_stage = deal.stage
    fields = ["stage", "rank"]
    deal.stage = stage
    if before is not None and before.stage_id == stage.pk and before.pk != deal.pk:
        # Make room above ``before``: shift it and the cards below it one place down.
        Deal.objects.filter(stage=stage, rank__gte=before.rank).exclude(pk=deal.pk).update(rank=F("rank") + 1)
        deal.rank = before.rank
    else:
        last = Deal.objects.filter(stage=stage).exclude(pk=deal.pk).aggregate(top=Max("rank"))["top"]
        deal.rank = (last or 0) + 1
    if from_stage.pk != stage.pk:
        _set_status(deal)
        deal.stage_entered_at = timezone.now()
        fields += ["status", "probability", "closed_on", "loss_reason", "lost_to", "stage_entered_at"]
        if deal.status == DealStatus.LOST:
            _apply_loss(deal, loss_reason, lost_to)
    save_versioned(deal, expected_version=version, update_fields=fields)
    if from_stage.pk != stage.pk:
        _record_stage_change(deal, from_stage=from_stage, actor=actor)
    return deal


@transaction.atomic
def deal_close(
    *,
    actor: Any,
    deal: Deal,
    won: bool,
    version: int | None,
    loss_reason: LossReason | None = None,
    lost_to: Competitor | None = None,
) -> Deal:
    """Mark a deal won or lost: it moves to its pipeline's first won or lost stage."""
    kind = StageKind.WON if won else StageKind.LOST
    stage = deal.pipeline.stages.filter(kind=kind).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(
            {"stage": _("This pipeline has no won stage.") if won else _("This pipeline has no lost stage.")}
        )
    if deal.stage_id == stage.pk:
        return deal
    return deal_move(actor=actor, deal=deal, stage=stage, version=version, loss_reason=loss_reason, lost_to=lost_to)


@transaction.atomic
def deal_delete(*, actor: Any, deal: Deal) -> None:
    _require(actor, "delete")
    try:
        deal.delete()
    except ProtectedError:
        raise ValidationError(_("This deal is still used by other records.")) from None


@transaction.atomic
def deal_log_activity(*, actor: Any, deal: Deal, data: dict[str, Any]) -> Any:
    """Log a note, call, meeting or email about a deal the actor may edit. It is also about the deal's
    company and, unless ``data`` names one, its first contact (so it shows on their timelines), and it
    counts as working the deal (its "last activity", which decides when a deal is stale)."""
    from crm.customers.activities.services import activity_log

    _require(actor, "edit")
    values = {"company": deal.company, **data, "related": deal}
    if "contact" not in values:
        contact = deal.contacts.order_by("deal_roles__id").first()
        if contact is not None:
            values["contact"] = contact
    activity = activity_log(actor=actor, data=values)
    deal_touch(deal_ids=[deal.pk], when=activity.occurred_at)
    return activity


def deal_touch(*, deal_ids: list[Any], when: Any = None) -> None:
    """Remember when a deal was last worked on (an activity was logged about it)."""
    from django.db.models import QuerySet

    QuerySet.update(Deal.objects.filter(pk__in=deal_ids), last_activity_at=when or timezone.now())


# --- pipelines and stages ------------------------------------------------------------------------------


def _require_admin(actor: Any) -> None:
    if not access.can(actor, "accounts", "edit"):
        raise PermissionDenied


@transaction.atomic
def pipeline_save(
    *, actor: Any, pipeline: Pipeline | None, data: dict[str, Any], stages: list[dict[str, Any]], version: int | None
) -> Pipeline:
    """Create or edit a pipeline with its stages (``stages``: dicts of id (absent for new), name,
    probability, kind, in the order wanted). At least one open stage, one won and one lost stage; a
    stage that still holds deals cannot be removed."""
    _require_admin(actor)
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the pipeline a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most %(count)d characters.") % {"count": 100}})
    kinds = [row.get("kind") for row in stages]
    errors: list[str] = []
    if StageKind.OPEN not in kinds:
        errors.append(_("A pipeline needs at least one open stage."))
    if StageKind.WON not in kinds:
        errors.append(_("A pipeline needs a won stage."))
    if StageKind.LOST not in kinds:
        errors.append(_("A pipeline needs a lost stage."))
    for row in stages:
        if not (row.get("name") or "").strip():
            errors.append(_("Every stage needs a name."))
            break
        try:
            probability = int(row.get("probability", 0))
        except (TypeError, ValueError):
            probability = -1
        if not 0 <= probability <= 100:
            errors.append(_("A win probability is a whole number from 0 to 100."))
            break
        if row.get("kind") not in StageKind.values:
            errors.append(_("Choose the kind of each stage."))
            break
    if errors:
        raise ValidationError({"stages": errors})
    is_default = bool(data.get("is_default"))
    if is_default:
        others = Pipeline.objects.filter(is_default=True)
        if pipeline is not None:
            others = others.exclude(pk=pipeline.pk)
        others.update(is_default=False)
    if pipeline is None:
        pipeline = Pipeline.objects.create(
            name=name,
            is_default=is_default or not Pipeline.objects.filter(is_default=True).exists(),
            order=(Pipeline.objects.aggregate(top=Max("order"))["top"] or 0) + 1,
        )
    else:
        pipeline.name = name
        pipeline.is_default = is_default or pipeline.is_default
        pipeline.is_active = bool(data.get("is_active", pipeline.is_active))
        save_versioned(pipeline, expected_version=version, update_fields=["name", "is_default", "is_active"])
    keep: list[int] = []
    existing = {stage.pk: stage for stage in pipeline.stages.all()}
    for order, row in enumerate(stages):
        pk = row.get("id")
        stage = existing.get(int(pk)) if pk is not None and pk != "" else None
        if stage is None:
            stage = Stage(pipeline=pipeline)
        stage.name = row["name"].strip()[:100]
        stage.probability = int(row["probability"])
        stage.kind = row["kind"]
        stage.order = order
        stage.save()
        keep.append(stage.pk)
    for pk, stage in existing.items():
        if pk not in keep:
            if Deal.objects.filter(stage=stage).exists():
                raise ValidationError(
                    {"stages": [_("The stage “%(name)s” still holds deals; move them first.") % {"name": stage.name}]}
                )
            stage.delete()
    return pipeline


@transaction.atomic
def named_create(*, actor: Any, model: type[LossReason] | type[Competitor], name: str) -> Any:
    """Add a loss reason or a competitor by name (unique, case-insensitively)."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give it a name."))
    if len(name) > 100:
        raise ValidationError(_("At most %(count)d characters.") % {"count": 100})
    if model.objects.filter(name__iexact=name).exists():
        raise ValidationError(_("That name is already in the list."))
    return model.objects.create(name=name)


@transaction.atomic
def named_delete(*, actor: Any, obj: LossReason | Competitor) -> None:
    _require_admin(actor)
    try:
        obj.delete()
    except ProtectedError:
        raise ValidationError(_("“%(name)s” is used by deals and stays in the list.") % {"name": obj.name}) from None


# --- products on a deal ------------------------------------------------------------------------------------


MAX_PRODUCT_LINES = 200


def _clean_product_line(deal: Deal, row: dict[str, Any]) -> DealProduct:
    from ..quotes import selectors as quote_selectors

    product = row.get("product")
    if not isinstance(product, Product) or not product.is_active:
        raise ValidationError({"products": [_("Choose an active product.")]})
    try:
        quantity = Decimal(str(row.get("quantity", "1")).strip() or "1")
    except ArithmeticError:
        raise ValidationError({"products": [_("Enter the quantity as a number.")]}) from None
    if not quantity.is_finite() or quantity <= 0 or quantity > Decimal("999999999"):
        raise ValidationError({"products": [_("The quantity must be more than zero.")]})
    price = row.get("unit_price")
    if price in (None, ""):
        book = quote_selectors.price_book_default(currency=deal.currency)
        price = quote_selectors.price_of(price_book=book, product=product)
        if price is None:
            raise ValidationError(
                {
                    "products": [
                        _("“%(product)s” has no price in %(currency)s: enter the unit price.")
                        % {"product": product.name, "currency": deal.currency}
                    ]
                }
            )
    else:
        try:
            price = money.parse_amount(price)
        except ValidationError as exc:
            raise ValidationError({"products": exc.messages}) from None
    return DealProduct(
        deal=deal,
        product=product,
        quantity=quantity.quantize(Decimal("0.001")),
        unit_price=money.quantize(Decimal(price), deal.currency),
    )


@transaction.atomic
def deal_product_add(*, actor: Any, deal: Deal, data: dict[str, Any]) -> DealProduct:
    """Put a product on a deal (``product``, ``quantity``, and ``unit_price``; without a price, the
    product's price in the default price book of the deal's currency)."""
    _require(actor, "edit")
    if deal.product_lines.count() >= MAX_PRODUCT_LINES:
        raise ValidationError(
            {"products": [_("A deal has at most %(count)d products.") % {"count": MAX_PRODUCT_LINES}]}
        )
    line = _clean_product_line(deal, data)
    line.save()
    return line


@transaction.atomic
def deal_product_remove(*, actor: Any, deal: Deal, line_id: Any) -> None:
    _require(actor, "edit")
    deleted, _rows = deal.product_lines.filter(pk=line_id).delete()
    if not deleted:
        raise ValidationError({"products": [_("That product is no longer on the deal.")]})


def deal_products_total(deal: Deal) -> Decimal:
    total = sum((line.quantity * line.unit_price for line in deal.product_lines.all()), start=Decimal("0"))
    return money.quantize(total, deal.currency)
