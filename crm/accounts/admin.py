"""Django admin for staff debugging only; the product's administration lives in the CRM's pages."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Role, Team, User

admin.site.register(User, UserAdmin)
admin.site.register(Team)
admin.site.register(Role)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "read_only", "expires_at", "revoked_at"]
    readonly_fields = ["key_hash", "hint"]
