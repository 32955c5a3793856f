from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.admin_scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin, organization_of
from accounts.models import ApiToken, AuditEvent, Organization, User

admin.site.site_header = _("mailbind administration")
admin.site.site_title = _("mailbind")
admin.site.index_title = _("Organization settings")


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_field = "pk"
    org_admin_can_add = False
    list_display = ["name", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk=request.user.organization_id)


class UserCreationForm(forms.ModelForm):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False), strip=False)

    class Meta:
        model = User
        fields = ["email", "full_name", "organization", "role", "language"]

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
    list_display = ["email", "full_name", "organization", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    filter_horizontal = []
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "language"]}),
        (_("Organization"), {"fields": ["organization", "role", "is_active"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "full_name", "organization", "role", "language", "password"]})]
    readonly_fields: list[str] = []

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser and obj is not None:
            fieldsets = [*fieldsets, (_("Operator"), {"fields": ["is_superuser"]})]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # An organization admin cannot move people to another organization.
        return ["organization"] if not request.user.is_superuser and obj is not None else []

    def save_model(self, request, obj, form, change):
        organization = organization_of(request)
        if organization is not None:
            obj.organization = organization
        super().save_model(request, obj, form, change)
        if not change:
            services.audit_record(
                action="user.created", actor=request.user, organization=obj.organization, target=obj,
                details={"role": obj.role, "via": "admin"},
            )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = ["created_at", "actor_email", "action", "target_repr"]
    list_filter = ["action"]
    search_fields = ["actor_email", "action", "target_repr"]
    readonly_fields = ["created_at", "organization", "actor_email", "action", "target_type", "target_id",
                       "target_repr", "details"]
    exclude = ["actor"]


@admin.register(ApiToken)
class ApiTokenAdmin(OrganizationScopedAdmin):
    organization_field = "user__organization"
    org_admin_can_add = False
    list_display = ["prefix", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are issued to their owner by the API, shown once

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            services.api_token_revoke(token=token, actor=request.user)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)
