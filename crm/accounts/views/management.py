"""Administration of users, teams and roles (module "accounts")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.core.pagination import paginate
from crm.core.views.generic import ModuleAccessMixin, ObjectActionView, ObjectFormView, apply_validation_error

from .. import selectors, services
from ..forms import InviteForm, RoleForm, TeamForm, UserForm
from ..models import Role, Team, User


class UserListView(ModuleAccessMixin, View):
    module = "accounts"

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q", "").strip()[:100]
        users = selectors.user_list(user=request.user, query=query).prefetch_related("teams")
        status = request.GET.get("status", "active")
        if status == "active":
            users = users.filter(is_active=True)
        elif status == "inactive":
            users = users.filter(is_active=False)
        page = paginate(request, users.order_by("username"), per_page=25)
        return render(request, "accounts/user_list.html", {"page": page, "query": query, "status": status})


class UserInviteView(ModuleAccessMixin, View):
    module = "accounts"
    permission_action = "create"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/user_invite.html", {"form": InviteForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                user = services.user_invite(actor=request.user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
                return HttpResponseRedirect(reverse("accounts:user_list"))
        return render(request, "accounts/user_invite.html", {"form": form}, status=400)


class UserEditView(ObjectFormView):
    module = "accounts"
    model = User
    form_class = UserForm
    template_name = "accounts/user_form.html"
    success_message = gettext_lazy("The user was saved.")

    def save(self, form: Any, instance: Any) -> Any:
        return services.user_update(
            actor=self.request.user, user=instance, data=form.changed_data_dict(), version=form.cleaned_data["version"]
        )

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:user_list")


class UserSetActiveView(ObjectActionView):
    module = "accounts"
    model = User

    def act(self, obj: Any) -> None:
        active = self.request.POST.get("active") == "1"
        services.user_set_active(actor=self.request.user, user=obj, active=active)
        self.success_message = _("The user can sign in again.") if active else _("The user was deactivated.")

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:user_edit", args=[obj.pk])


class UserResetTwoFactorView(ObjectActionView):
    module = "accounts"
    model = User
    success_message = gettext_lazy(
        "Two-factor authentication was reset. The user will set it up again at next sign-in if their role requires it."
    )

    def act(self, obj: Any) -> None:
        services.two_factor_disable(actor=self.request.user, user=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:user_edit", args=[obj.pk])


class TeamListView(ModuleAccessMixin, View):
    module = "accounts"

    def get(self, request: HttpRequest) -> HttpResponse:
        page = paginate(request, selectors.team_list(user=request.user).order_by("name"), per_page=50)
        return render(request, "accounts/team_list.html", {"page": page})


class TeamFormView(ObjectFormView):
    module = "accounts"
    model = Team
    form_class = TeamForm
    template_name = "accounts/team_form.html"
    success_message = gettext_lazy("The team was saved.")

    def save(self, form: Any, instance: Any) -> Any:
        data = form.changed_data_dict()
        if instance is None:
            return services.team_create(actor=self.request.user, **data)
        return services.team_update(
            actor=self.request.user, team=instance, data=data, version=form.cleaned_data["version"]
        )

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:team_list")


class TeamDeleteView(ObjectActionView):
    module = "accounts"
    model = Team
    permission_action = "delete"
    success_message = gettext_lazy("The team was deleted.")

    def act(self, obj: Any) -> None:
        services.team_delete(actor=self.request.user, team=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:team_list")


class RoleListView(ModuleAccessMixin, View):
    module = "accounts"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, "accounts/role_list.html", {"roles": selectors.role_list(user=request.user).order_by("name")}
        )


class RoleFormView(ObjectFormView):
    module = "accounts"
    model = Role
    form_class = RoleForm
    template_name = "accounts/role_form.html"
    success_message = gettext_lazy("The role was saved.")

    def save(self, form: Any, instance: Any) -> Any:
        data = form.changed_data_dict()
        if instance is None:
            return services.role_create(actor=self.request.user, **data)
        return services.role_update(
            actor=self.request.user, role=instance, data=data, version=form.cleaned_data["version"]
        )

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:role_list")


class RoleDeleteView(ObjectActionView):
    module = "accounts"
    model = Role
    permission_action = "delete"
    success_message = gettext_lazy("The role was deleted.")

    def act(self, obj: Any) -> None:
        services.role_delete(actor=self.request.user, role=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("accounts:role_list")
