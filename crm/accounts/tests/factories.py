from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from crm.accounts.models import ApiToken, Role, Team, User, hash_secret

PASSWORD = "correct horse battery staple"


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"Role {n}")
    data_scope = "own"
    permissions = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Test roles see sensitive fields unless their permissions say ``"sensitive": []``, like the
        built-in roles of people who work with customers one by one."""
        kwargs["permissions"] = {"sensitive": ["view"], **dict(kwargs.get("permissions") or {})}
        return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)


def make_token(user: User, *, read_only: bool = False, **kwargs) -> tuple[ApiToken, str]:
    secret = ApiToken.generate_secret()
    token = ApiToken.objects.create(
        user=user, name="test", key_hash=hash_secret(secret), hint=secret[:10], read_only=read_only, **kwargs
    )
    return token, secret
