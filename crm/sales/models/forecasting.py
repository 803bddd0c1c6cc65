"""Quotas, and forecasts computed by a job and stored for the page to show."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import TimeStampedModel, VersionedModel

from ..choices import ForecastStatus


class Quota(VersionedModel):
    """What a rep (or a whole team) should win in a month, in the company's currency."""

    access_module = "sales"
    access_data_scoped = False

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quotas",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE, null=True, blank=True, related_name="quotas"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["-month", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="quota_user_or_team",
            ),
            models.UniqueConstraint(fields=["user", "month"], condition=Q(user__isnull=False), name="quota_user_month"),
            models.UniqueConstraint(fields=["team", "month"], condition=Q(team__isnull=False), name="quota_team_month"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} {self.month:%Y-%m}: {self.amount}"


class ForecastRun(TimeStampedModel):
    """One computation of the forecast for a scope (everyone, an owner, a team, a pipeline).

    ``result`` holds the monthly history, each method's forecast with its intervals and backtest
    errors, the recommendation and the weighted pipeline; the page renders from it.
    """

    access_module = "sales"
    access_data_scoped = False

    scope = models.CharField(_("scope"), max_length=64, default="all", db_index=True)
    months = models.PositiveSmallIntegerField(_("months ahead"), default=6)
    status = models.CharField(_("status"), max_length=8, choices=ForecastStatus.choices, default=ForecastStatus.PENDING)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    seconds = models.FloatField(_("computed in (s)"), null=True, blank=True)
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope", "status", "-created_at"], name="forecast_scope_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.created_at:%Y-%m-%d %H:%M}"
