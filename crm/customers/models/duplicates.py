from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import CustomFieldEntity, DuplicateStatus
from .companies import Company
from .contacts import Contact


class DuplicateCandidate(models.Model):
    """A pair of records that look like the same customer, found by the scheduled scan. Exactly one
    pair of foreign keys is set: ``contact_a``/``contact_b`` or ``company_a``/``company_b``, with
    a's id lower than b's."""

    entity = models.CharField(_("record type"), max_length=16, choices=CustomFieldEntity.choices)
    contact_a = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    contact_b = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    company_a = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    company_b = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    reasons = models.JSONField(_("reasons"), default=list, help_text=_("e.g. email, phone, name"))
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-score", "-found_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact_a", "contact_b"], name="duplicate_contact_pair_unique"),
            models.UniqueConstraint(fields=["company_a", "company_b"], name="duplicate_company_pair_unique"),
        ]
        indexes = [models.Index(fields=["entity", "status", "-score", "-id"], name="duplicate_page_idx")]

    def __str__(self) -> str:
        first, second = (
            (self.contact_a_id, self.contact_b_id)
            if self.entity == "contact"
            else (
                self.company_a_id,
                self.company_b_id,
            )
        )
        return f"{self.entity} {first} ~ {second}"


class Merge(models.Model):
    """Records merged into a survivor, with everything needed to undo it: the merged records' rows,
    the survivor's values before, and which related rows moved."""

    entity = models.CharField(_("record type"), max_length=16, choices=CustomFieldEntity.choices)
    survivor_id = models.PositiveBigIntegerField(_("survivor"))
    merged_ids = models.JSONField(_("merged records"), default=list)
    snapshot = models.JSONField(_("snapshot"), default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("merged"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["entity", "survivor_id"], name="merge_survivor_idx")]

    def __str__(self) -> str:
        return f"{self.entity} {self.merged_ids} → {self.survivor_id}"
