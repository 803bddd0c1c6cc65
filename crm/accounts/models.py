"""Users, teams, roles and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.core.choices import DataScope
from crm.core.journal import JournaledModelMixin
from crm.core.models import VersionedModel
from crm.core.querysets import ScopedQuerySet

from .choices import BuiltinRole


class UserQuerySet(ScopedQuerySet["User"]):
    pass


class CRMUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, username: str) -> User:
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


@lru_cache(maxsize=16)
def _english_label(builtin: str) -> str | None:
    """The name a built-in role is created with (its label in English)."""
    if builtin not in BuiltinRole.values:
        return None
    with translation.override("en"):
        return str(BuiltinRole(builtin).label)


class Role(VersionedModel):
    """What a group of users may do (per module: view, create, edit, delete, export) and which
    records they see (own, own team's, all)."""

    access_module = "accounts"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100, unique=True)
    builtin = models.CharField(_("built-in role"), max_length=32, blank=True, editable=False)
    description = models.CharField(_("description"), max_length=255, blank=True)
    permissions = models.JSONField(_("permissions"), default=dict, blank=True)
    data_scope = models.CharField(_("data scope"), max_length=8, choices=DataScope.choices, default=DataScope.OWN)
    require_two_factor = models.BooleanField(_("require two-factor authentication"), default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["builtin"], condition=~models.Q(builtin=""), name="role_builtin_unique")
        ]

    def __str__(self) -> str:
        """The name; a built-in role nobody renamed is called by its label in the reader's language."""
        if self.builtin and self.name == _english_label(self.builtin):
            return str(BuiltinRole(self.builtin).label)
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:role_edit", args=[self.pk])

    def allows(self, module: str, action: str) -> bool:
        return action in self.permissions.get(module, [])


class Team(VersionedModel):
    access_module = "accounts"
    access_data_scoped = False

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="teams", blank=True
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:team_edit", args=[self.pk])


class User(JournaledModelMixin, AbstractUser):
    """A person who signs in. Users are deactivated, never deleted, so history keeps its authors."""

    access_module = "accounts"
    access_data_scoped = False

    email = models.EmailField(_("email address"), max_length=254)
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_away = models.BooleanField(_("away"), default=False, help_text=_("Away users get no new assignments."))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CRMUserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique", condition=~models.Q(email="")),
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("accounts:user_edit", args=[self.pk])

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    # --- what core.access asks of a user -------------------------------------------------------
    def has_module_perm(self, module: str, action: str) -> bool:
        if self.is_superuser:
            return True
        return self.role is not None and self.role.allows(module, action)

    def get_data_scope(self) -> str:
        if self.is_superuser:
            return DataScope.ALL
        return self.role.data_scope if self.role is not None else DataScope.OWN

    def team_ids(self) -> list[int]:
        if not hasattr(self, "_team_ids"):
            self._team_ids = list(self.teams.values_list("pk", flat=True))
        return self._team_ids

    def team_member_ids(self) -> list[int]:
        if not hasattr(self, "_team_member_ids"):
            ids = self.team_ids()
            self._team_member_ids = sorted(
                set(User.objects.filter(teams__in=ids).values_list("pk", flat=True)) if ids else set()
            )
        return self._team_member_ids

    @property
    def requires_two_factor(self) -> bool:
        return self.role is not None and self.role.require_two_factor

    @property
    def has_two_factor(self) -> bool:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.filter(user=self, confirmed=True).exists()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the secret is shown once at creation."""

    PREFIX = "crm_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("starts with"), max_length=16, editable=False)
    read_only = models.BooleanField(_("read-only"), default=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def generate_secret(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class RecoveryCode(models.Model):
    """A one-time two-factor recovery code, stored as a hash."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        indexes = [models.Index(fields=["user", "code_hash"], name="recovery_code_idx")]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"
