from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin
from diagnostics import judge
from diagnostics.models import DiagnosticRun, DiagnosticStep


class StepInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DiagnosticStep
    fields = ["position", "name", "status", "code", "message", "duration_ms", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        # The run's own admin already scoped `obj` to the organization; organization admins hold no Django perms.
        return request.user.is_staff


@admin.register(DiagnosticRun)
class DiagnosticRunAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = ["id", "kind", "account", "status", "outcome", "trigger", "created_at", "finished_at"]
    list_filter = ["status", "kind", "trigger"]
    search_fields = ["account__address", "outcome"]
    readonly_fields = ["organization", "account", "target", "requested_by", "kind", "trigger", "status", "outcome",
                       "attempts", "created_at", "started_at", "finished_at", "advice"]
    inlines = [StepInline]

    def has_view_permission(self, request, obj=None) -> bool:
        return self._in_scope(request, obj)

    @admin.display(description=_("advice"))
    def advice(self, run: DiagnosticRun):
        if not run.is_finished:
            return "—"
        items = judge.run_advice(run)
        return format_html_join(
            "", "<p><strong>{}</strong> ({})<br>{}</p>",
            ((item["title"], item["code"], " ".join(item["steps"])) for item in items),
        )


# The health page, the webhook endpoints and the delivery logs live in their own modules; importing them
# registers them.
from diagnostics.health import admin as _health_admin  # noqa: E402, F401
from diagnostics.notify import admin as _notify_admin  # noqa: E402, F401
