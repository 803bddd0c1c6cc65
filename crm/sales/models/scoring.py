"""Lead scoring: the manager's rules, and the predictive models trained on past leads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.models import TimeStampedModel, VersionedModel

from ..choices import ScoringKind, ScoringOperator


class ScoringRule(VersionedModel):
    """Points for a lead whose ``field`` satisfies ``operator`` ``value`` (fit or engagement)."""

    access_module = "sales"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=ScoringKind.choices, default=ScoringKind.FIT)
    field = models.CharField(_("field"), max_length=50)
    operator = models.CharField(_("condition"), max_length=12, choices=ScoringOperator.choices)
    value = models.CharField(_("value"), max_length=200, blank=True)
    points = models.SmallIntegerField(_("points"), help_text=_("From -100 to 100."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ScoringModel(TimeStampedModel):
    """A logistic regression trained on closed leads: its coefficients and its measured quality.

    Only the newest ``is_active`` model scores leads; older ones are kept to show the history.
    """

    access_module = "sales"
    access_data_scoped = False

    is_active = models.BooleanField(_("active"), default=False)
    trained_on = models.PositiveIntegerField(_("leads trained on"), default=0)
    tested_on = models.PositiveIntegerField(_("leads tested on"), default=0)
    roc_auc = models.FloatField(_("ROC AUC"), null=True, blank=True)
    conversion_rate = models.FloatField(_("conversion rate"), null=True, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, help_text=_("Features, coefficients, scaling."))
    message = models.CharField(_("message"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} AUC {self.roc_auc}"
