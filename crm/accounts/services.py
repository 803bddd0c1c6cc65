"""Every write of the accounts app: users, teams, roles, tokens, two-factor, preferences."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.core import access
from crm.core.registry import platform
from crm.core.versioning import save_versioned

from .choices import BuiltinRole
from .models import ApiToken, RecoveryCode, Role, Team, User, hash_secret

RECOVERY_CODE_COUNT = 10


def _require(actor: Any, action: str) -> None:
    if not access.can(actor, "accounts", action):
        raise PermissionDenied


def absolute_url(path: str, request: Any = None) -> str:
    if request is not None:
        return str(request.build_absolute_uri(path))
    base = settings.CRM_BASE_URL or "http://127.0.0.1:8000"
    return base + path


# --- users -------------------------------------------------------------------------------------------


@transaction.atomic
def user_invite(
    *,
    actor: Any,
    email: str,
    role: Role | None,
    first_name: str = "",
    last_name: str = "",
    teams: list[Team] | tuple[Team, ...] = (),
    request: Any = None,
) -> User:
    """Create a user without a password and email them a link to choose one."""
    _require(actor, "create")
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists() or User.objects.filter(username__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email address already exists.")})
    user = User(username=email, email=email, first_name=first_name, last_name=last_name, role=role)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if teams:
        user.teams.set(teams)
    transaction.on_commit(lambda: _send_invitation(user=user, inviter=actor, request=request))
    return user


def _send_invitation(*, user: User, inviter: Any, request: Any) -> None:
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"user": user, "inviter": inviter, "url": absolute_url(path, request)}
    with translation.override(getattr(inviter, "language", "") or settings.LANGUAGE_CODE):
        subject = _("You are invited to the CRM")
        body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def user_update(*, actor: Any, user: User, data: dict[str, Any], version: int) -> User:
    _require(actor, "edit")
    teams = data.pop("teams", None)
    if user.pk == getattr(actor, "pk", None) and "is_active" in data and not data["is_active"]:
        raise ValidationError({"is_active": _("You cannot deactivate yourself.")})
    for field, value in data.items():
        setattr(user, field, value)
    if User.objects.exclude(pk=user.pk).filter(email__iexact=user.email).exclude(email="").exists():
        raise ValidationError({"email": _("A user with this email address already exists.")})
    save_versioned(user, expected_version=version, update_fields=list(data))
    if teams is not None:
        user.teams.set(teams)
    return user


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool) -> User:
    _require(actor, "edit")
    if user.pk == getattr(actor, "pk", None) and not active:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.is_active = active
    save_versioned(user, expected_version=None, update_fields=["is_active"])
    if not active:
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


def _loaded(user: Any) -> User:
    """The user's own row: a request's ``user`` is a lazy wrapper that ``save_versioned`` cannot save."""
    return user if type(user) is User else User.objects.get(pk=user.pk)


@transaction.atomic
def user_update_preferences(*, user: User, language: str | None = None, time_zone: str | None = None) -> User:
    user = _loaded(user)
    fields: list[str] = []
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": _("Unknown language.")})
        user.language, fields = language, [*fields, "language"]
    if time_zone is not None:
        import zoneinfo

        if time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})
        user.time_zone, fields = time_zone, [*fields, "time_zone"]
    if fields:
        save_versioned(user, expected_version=None, update_fields=fields)
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> User:
    from django.contrib.auth import password_validation

    user = _loaded(user)
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    save_versioned(user, expected_version=None, update_fields=["password"])
    return user


# --- teams -------------------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *, actor: Any, name: str, description: str = "", manager: User | None = None, members: Any = ()
) -> Team:
    _require(actor, "create")
    team = Team(name=name, description=description, manager=manager)
    team.full_clean()
    team.save()
    team.members.set(members)
    if manager is not None:
        team.members.add(manager)
    return team


@transaction.atomic
def team_update(*, actor: Any, team: Team, data: dict[str, Any], version: int) -> Team:
    _require(actor, "edit")
    members = data.pop("members", None)
    for field, value in data.items():
        setattr(team, field, value)
    save_versioned(team, expected_version=version, update_fields=list(data))
    if members is not None:
        team.members.set(members)
    if team.manager_id:
        team.members.add(team.manager_id)
    return team


@transaction.atomic
def team_delete(*, actor: Any, team: Team) -> None:
    _require(actor, "delete")
    team.delete()


# --- roles -------------------------------------------------------------------------------------------


def validate_permissions(permissions: dict[str, Any]) -> dict[str, list[str]]:
    clean: dict[str, list[str]] = {}
    for module_key, actions in permissions.items():
        module = platform.modules.get(module_key)
        if module is None:
            raise ValidationError({"permissions": _("Unknown module: %(module)s") % {"module": module_key}})
        if not isinstance(actions, (list, tuple)) or any(a not in module.actions for a in actions):
            raise ValidationError({"permissions": _("Unknown action in module %(module)s.") % {"module": module_key}})
        clean[module_key] = sorted(set(actions))
    return clean


@transaction.atomic
def role_create(
    *,
    actor: Any,
    name: str,
    data_scope: str,
    permissions: dict[str, Any],
    description: str = "",
    require_two_factor: bool = False,
) -> Role:
    _require(actor, "create")
    role = Role(
        name=name,
        description=description,
        data_scope=data_scope,
        permissions=validate_permissions(permissions),
        require_two_factor=require_two_factor,
    )
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_update(*, actor: Any, role: Role, data: dict[str, Any], version: int) -> Role:
    _require(actor, "edit")
    if "permissions" in data:
        data["permissions"] = validate_permissions(data["permissions"])
        if role.builtin == BuiltinRole.ADMINISTRATOR and "edit" not in data["permissions"].get("accounts", []):
            raise ValidationError({"permissions": _("The Administrator role must keep the right to manage users.")})
    for field, value in data.items():
        setattr(role, field, value)
    save_versioned(role, expected_version=version, update_fields=list(data))
    return role


@transaction.atomic
def role_delete(*, actor: Any, role: Role) -> None:
    _require(actor, "delete")
    if role.builtin:
        raise ValidationError(_("Built-in roles cannot be deleted."))
    if role.users.exists():
        raise ValidationError(_("This role still has users. Give them another role first."))
    role.delete()


BUILTIN_SCOPES = {
    BuiltinRole.ADMINISTRATOR: "all",
    BuiltinRole.SALES_MANAGER: "team",
    BuiltinRole.SALES_REP: "own",
    BuiltinRole.MARKETING: "all",
    BuiltinRole.SUPPORT_AGENT: "all",
    BuiltinRole.READ_ONLY: "all",
}


@transaction.atomic
def roles_sync_builtin() -> None:
    """Create the built-in roles and give each module's default grants to roles that have never
    been given a choice for that module (an administrator's later changes are kept)."""
    for slug, label in BuiltinRole.choices:
        role = Role.objects.filter(builtin=slug).first()
        if role is None:
            name = str(label)
            if Role.objects.filter(name=name).exists():
                name = f"{name} ({slug})"
            role = Role(builtin=slug, name=name, data_scope=BUILTIN_SCOPES[BuiltinRole(slug)])
        permissions = dict(role.permissions)
        for module in platform.modules.values():
            if module.key not in permissions:
                if slug == BuiltinRole.ADMINISTRATOR:
                    permissions[module.key] = list(module.actions)
                else:
                    permissions[module.key] = list(module.defaults.get(slug, ()))
        if role.pk is None or permissions != role.permissions:
            role.permissions = permissions
            role.save()


# --- API tokens ----------------------------------------------------------------------------------------


@transaction.atomic
def token_create(*, user: User, name: str, read_only: bool, expires_at: datetime | None) -> tuple[ApiToken, str]:
    """Create a token; returns it with its secret, which is never stored or shown again."""
    if not name.strip():
        raise ValidationError({"name": _("Give the token a name.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    secret = ApiToken.generate_secret()
    token = ApiToken(
        user=user,
        name=name.strip(),
        read_only=read_only,
        expires_at=expires_at,
        key_hash=hash_secret(secret),
        hint=secret[:10],
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    if token.user_id != user.pk:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- two-factor ---------------------------------------------------------------------------------------


@transaction.atomic
def two_factor_begin(*, user: User) -> TOTPDevice:
    """Start enrolment: an unconfirmed TOTP device whose secret the QR code carries."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


@transaction.atomic
def two_factor_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm enrolment with a code from the app; returns fresh recovery codes (shown once)."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError({"code": _("Start the set-up again.")})
    if not device.verify_token(code.strip().replace(" ", "")):
        raise ValidationError({"code": _("That code is not right. Check the time on your phone and try again.")})
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save()
    return recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=hash_secret(code)) for code in codes)
    return codes


@transaction.atomic
def two_factor_verify(*, user: User, code: str) -> bool:
    """Check a login code: a current TOTP code, or an unused recovery code (then spent)."""
    code = code.strip().replace(" ", "").lower()
    if not code:
        return False
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if code.isdigit() and device.verify_token(code):
            return True
    spent = RecoveryCode.objects.filter(user=user, code_hash=hash_secret(code), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return spent == 1


@transaction.atomic
def two_factor_disable(*, actor: Any, user: User) -> None:
    """Remove a user's two-factor devices and recovery codes (the user, or an administrator)."""
    if actor.pk != user.pk:
        _require(actor, "edit")
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
