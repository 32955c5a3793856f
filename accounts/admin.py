from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts import audit_display, services
from accounts.admin_scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin, organization_of
from accounts.forms import AdminSignInForm
from accounts.models import ApiToken, AuditEvent, Organization, User
from config.errors import MailbindError

admin.site.login_form = AdminSignInForm  # throttled like every way in (accounts.services.signin_authenticate)
admin.site.site_header = _("mailbind administration")
admin.site.site_title = _("mailbind")
admin.site.index_title = _("Organization settings")


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_field = "pk"
    org_admin_can_add = False
    list_display = ["name", "created_at"]
    search_fields = ["name"]


class UserCreationForm(forms.ModelForm):
    """The admin's add form. UserAdmin.save_model saves it through accounts.services.user_create."""

    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False), strip=False)

    class Meta:
        model = User
        fields = ["email", "full_name", "organization", "role", "language"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Every user belongs to an organization; operators (none) are made with `createsuperuser`.
        self.fields["organization"].required = True


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
    list_display = ["email", "full_name", "organization", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    filter_horizontal = []
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm  # saved by user_change_password through the service
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
        # Nobody moves people between organizations (accounts.services.user_update refuses it); an operator may
        # still give an organization to a user who has none.
        return ["organization"] if obj is not None and obj.organization_id is not None else []

    # --- every write through accounts.services: scoped, guarded (a locked admin is refused), audited ----------

    def save_model(self, request, obj, form, change):
        if change:
            user = User.objects.select_related("organization").get(pk=obj.pk)
            fields = services.USER_UPDATE_FIELDS | services.OPERATOR_UPDATE_FIELDS
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in fields}
            services.user_update(actor=request.user, user=user, changes=changes)
            return
        data = form.cleaned_data
        user = services.user_create(
            organization=organization_of(request) or data["organization"], email=data["email"],
            password=data["password"], role=data["role"], actor=request.user, full_name=data.get("full_name", ""),
            language=data.get("language", ""),
        )
        obj.pk = user.pk  # the admin's "added" message and redirect use it

    def save_related(self, request, form, formsets, change) -> None:
        return None  # groups and permissions are not edited here

    def _refusal(self, request, exc: MailbindError, url: str) -> HttpResponseRedirect:
        self.message_user(request, str(exc.message), messages.ERROR)
        return HttpResponseRedirect(url)

    @method_decorator(sensitive_post_parameters())
    def add_view(self, request, form_url="", extra_context=None):
        try:
            services.user_management_check(actor=request.user)  # before any form: nothing to lose
        except MailbindError as exc:
            return self._refusal(request, exc, reverse("admin:accounts_user_changelist"))
        return super().add_view(request, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MailbindError as exc:
            # Refused at save time (a guarded change by a locked admin, an email taken meanwhile): a message,
            # not a 500; Django's transaction around the view has rolled everything back.
            return self._refusal(request, exc, request.get_full_path())

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if request.method != "POST" or user is None or not self.has_change_permission(request, user):
            return super().user_change_password(request, id, form_url)  # the form, or Django's 403/404
        change_url = reverse("admin:accounts_user_change", args=[user.pk])
        try:
            services.user_management_check(actor=request.user)
        except MailbindError as exc:
            return self._refusal(request, exc, change_url)
        form = self.change_password_form(user, request.POST)
        valid = form.is_valid()
        set_usable = valid and form.cleaned_data["set_usable_password"]
        if not valid or not (set_usable or "unset-password" in request.POST):
            return super().user_change_password(request, id, form_url)  # errors shown, nothing written
        try:
            services.user_set_password(
                actor=request.user, user=user, password=form.cleaned_data["password1"] if set_usable else None
            )
        except MailbindError as exc:
            return self._refusal(request, exc, change_url)
        self.log_change(request, user, self.construct_change_message(request, form, None))
        if set_usable:
            messages.success(request, gettext("Password changed successfully."))
        else:
            messages.success(request, gettext("Password-based authentication was disabled."))
        update_session_auth_hash(request, user)
        return HttpResponseRedirect(change_url)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    # Sentences in the reader's language (accounts/audit_display.py); the codes stay on the detail page.
    list_display = ["created_at", audit_display.actor, audit_display.what, audit_display.about]
    list_filter = [audit_display.ActionFilter]
    search_fields = ["actor_email", "action", "target_repr"]
    fields = ["created_at", "organization", audit_display.actor, audit_display.what, "action",
              audit_display.about, audit_display.details_list]
    readonly_fields = fields


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
