"""Demo data of the accounts app: a believable company with a user in every built-in role."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .choices import BuiltinRole
from .models import Role, Team, User
from .services import roles_sync_builtin

DEMO_USERS = [
    # username, first, last, role, team
    ("admin", "Ada", "Admin", BuiltinRole.ADMINISTRATOR, None),
    ("manager", "Mia", "Manager", BuiltinRole.SALES_MANAGER, "Sales East"),
    ("rep", "Ray", "Rep", BuiltinRole.SALES_REP, "Sales East"),
    ("rep2", "Wang", "Fang", BuiltinRole.SALES_REP, "Sales West"),
    ("marketer", "Mark", "Eting", BuiltinRole.MARKETING, "Marketing"),
    ("agent", "Sam", "Support", BuiltinRole.SUPPORT_AGENT, "Support"),
    ("viewer", "Rita", "Reader", BuiltinRole.READ_ONLY, None),
]


def demo_password() -> str:
    """One password for all demo users, generated on first use and kept in the ignored local folder."""
    import secrets

    path = settings.LOCAL_DIR / "demo_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("demo-" + secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


def build(*, stdout: Any = None) -> None:
    roles_sync_builtin()
    password = demo_password()
    teams: dict[str, Team] = {}
    for username, first, last, role_slug, team_name in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.com")
            user.role = Role.objects.get(builtin=role_slug)
            user.is_staff = user.is_superuser = username == "admin"
            user.set_password(password)
            user.save()
        if team_name:
            team = teams.get(team_name) or Team.objects.filter(name=team_name).first()
            if team is None:
                team = Team.objects.create(name=team_name)
            teams[team_name] = team
            team.members.add(user)
            if role_slug == BuiltinRole.SALES_MANAGER and team.manager_id is None:
                team.manager = user
                team.save()


def logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of every demo user, for the start-up banner."""
    password = demo_password()
    return [(u, password, str(BuiltinRole(r).label)) for u, _f, _l, r, _t in DEMO_USERS]
