"""The history of settings locks, read-only and organization-scoped. Locking and unlocking happen on the
"Mail users" page (mailsettings/admin_mail_users.py), which calls locks' services."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin
from locks.models import SettingsLock


class LockStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("locked", _("Locked")), ("released", _("Released"))]

    def queryset(self, request, queryset):
        if self.value() == "locked":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(SettingsLock)
class SettingsLockAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = ["user", "is_active", "locked_by", "locked_at", "reason", "released_by", "released_at"]
    list_filter = [LockStateFilter]
    list_select_related = ["user", "locked_by", "released_by"]
    search_fields = ["user__email", "user__full_name", "reason"]
    date_hierarchy = "locked_at"
    fields = ["user", "organization", "locked_by", "locked_at", "reason", "released_by", "released_at",
              "release_reason"]
    readonly_fields = fields

    @admin.display(boolean=True, description=_("locked"))
    def is_active(self, lock: SettingsLock) -> bool:
        return lock.is_active

    def get_list_display(self, request):
        if request.user.is_superuser:
            return ["organization", *self.list_display]
        return self.list_display
