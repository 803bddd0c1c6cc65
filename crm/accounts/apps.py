from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from crm.core import journal
        from crm.core.registry import DemoBuilder, Module, NavItem, SearchProvider, platform

        from . import demo
        from .api import schema  # noqa: F401  (OpenAPI description of token authentication)
        from .models import Role, Team, User

        journal.register(User, exclude=["last_login"], redact=["password"])
        journal.register(Team)
        journal.register(Role)
        platform.register_module(
            Module(key="accounts", label=_("Users and teams"), actions=("view", "create", "edit", "delete"), order=900),
            nav=[
                NavItem(_("Users"), "accounts:user_list", "ti-users", "accounts", order=900, section="admin"),
                NavItem(_("Teams"), "accounts:team_list", "ti-users-group", "accounts", order=910, section="admin"),
                NavItem(_("Roles"), "accounts:role_list", "ti-shield-lock", "accounts", order=920, section="admin"),
            ],
        )
        platform.register_demo(DemoBuilder("accounts", demo.build, order=10))
        from .selectors import user_search

        platform.register_search(SearchProvider("users", _("Users"), "accounts", user_search))
        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs: object) -> None:
    from .services import roles_sync_builtin

    roles_sync_builtin()
