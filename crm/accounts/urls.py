from django.urls import path

from .views import auth, management, people, profile

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/login/verify/", auth.LoginVerifyView.as_view(), name="login_verify"),
    path("accounts/logout/", auth.logout_view, name="logout"),
    path("accounts/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/password/reset/done/", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/profile/", profile.ProfileView.as_view(), name="profile"),
    path("accounts/language/", profile.set_language, name="set_language"),
    path("accounts/two-factor/", profile.TwoFactorView.as_view(), name="two_factor"),
    path("accounts/two-factor/recovery-codes/", profile.RecoveryCodesView.as_view(), name="recovery_codes"),
    path("accounts/two-factor/disable/", profile.TwoFactorDisableView.as_view(), name="two_factor_disable"),
    path("accounts/tokens/", profile.TokenListView.as_view(), name="token_list"),
    path("accounts/tokens/<int:pk>/revoke/", profile.TokenRevokeView.as_view(), name="token_revoke"),
    path("people/autocomplete/", people.UserAutocompleteView.as_view(), name="user_autocomplete"),
    path("settings/users/", management.UserListView.as_view(), name="user_list"),
    path("settings/users/invite/", management.UserInviteView.as_view(), name="user_invite"),
    path("settings/users/<int:pk>/", management.UserEditView.as_view(), name="user_edit"),
    path("settings/users/<int:pk>/active/", management.UserSetActiveView.as_view(), name="user_set_active"),
    path(
        "settings/users/<int:pk>/reset-two-factor/",
        management.UserResetTwoFactorView.as_view(),
        name="user_reset_two_factor",
    ),
    path("settings/teams/", management.TeamListView.as_view(), name="team_list"),
    path("settings/teams/new/", management.TeamFormView.as_view(), name="team_create"),
    path("settings/teams/<int:pk>/", management.TeamFormView.as_view(), name="team_edit"),
    path("settings/teams/<int:pk>/delete/", management.TeamDeleteView.as_view(), name="team_delete"),
    path("settings/roles/", management.RoleListView.as_view(), name="role_list"),
    path("settings/roles/new/", management.RoleFormView.as_view(), name="role_create"),
    path("settings/roles/<int:pk>/", management.RoleFormView.as_view(), name="role_edit"),
    path("settings/roles/<int:pk>/delete/", management.RoleDeleteView.as_view(), name="role_delete"),
]
