from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.models import VersionedModel

from ..choices import CustomFieldEntity, CustomFieldKind

key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,49}$",
    _("Use lower-case letters, digits and underscores, starting with a letter (at most 50 characters)."),
)


class CustomField(VersionedModel):
    """A field an administrator adds to companies or contacts. Values live in the record's ``custom``
    JSON under ``key`` (strings, numbers as strings for money, ISO dates, booleans, lists for several
    choices), which works the same on SQLite and PostgreSQL. The values of a field marked ``sensitive``
    are stored encrypted there (see ``custom_fields.storage``)."""

    entity = models.CharField(_("record type"), max_length=16, choices=CustomFieldEntity.choices)
    key = models.CharField(
        _("key"),
        max_length=50,
        validators=[key_validator],
        help_text=_("Names the field in the API, imports and exports; cannot be changed later."),
    )
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("type"), max_length=16, choices=CustomFieldKind.choices, default=CustomFieldKind.TEXT)
    required = models.BooleanField(_("required"), default=False)
    default = models.JSONField(_("default"), null=True, blank=True)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_(
            "Its values are stored encrypted and shown only to roles that may view sensitive fields; others "
            "see them masked. A sensitive field cannot be filtered or sorted on."
        ),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive field is hidden everywhere; its values are kept.")
    )

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["entity", "key"], name="customfield_entity_key_unique")]

    def __str__(self) -> str:
        return self.label
