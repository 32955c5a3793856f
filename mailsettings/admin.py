"""The Django admin of mail accounts. Organization-scoped; every change goes through mailsettings.services, so it
is checked (tenant, role, lock) and audited exactly as in the API. No form ever renders a password: the add form
takes one write-only, and a separate "Change password" page sets a new one."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts.admin_scoping import OrganizationScopedAdmin
from config.errors import InvalidInput, MailbindError, NotFound
from config.form_errors import form_add_product_error
from locks.models import MailUser
from mailsettings import password_rule, selectors, services
from mailsettings.admin_mail_users import MailUserAdmin
from mailsettings.admin_oauth import OAuthClientAdmin
from mailsettings.models import MailAccount
from mailsettings.models_oauth import OAuthClient
from mailsettings.outcomes import outcome_choices_present, outcome_label
from mailsettings.validation import mail_account_clean
from mailsettings.warnings import account_warnings

SETTINGS_FIELDS = [
    "address",
    "protocol",
    "incoming_host",
    "incoming_port",
    "incoming_security",
    "incoming_username",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_same_credentials",
    "smtp_username",
    "save_sent_on_server",
]
NEW_CREDENTIAL_TEMPLATE = "admin/mailsettings/mailaccount/password.html"


def _password_input(label: Any, *, required: bool) -> forms.CharField:
    # render_value=False: a redisplayed form (after an error) comes back with the box empty.
    return forms.CharField(
        label=label, required=required, strip=False, widget=forms.PasswordInput(render_value=False)
    )


_PASSWORD_HELP = {
    "own": _(
        "Leave empty to keep the stored password; it is never shown. Changing the server, port, security, "
        "protocol, username or same-credentials setting needs the password again."
    ),
    "other": _(
        "Leave empty to keep the stored password; it is never shown. If you change where it is sent (server, "
        "port, security, protocol, username or same credentials) without entering it, the stored password is "
        "removed and the owner is asked to enter it for the new server."
    ),
}
_RULE_NOTES = {
    "own": _("This change decides where the password is sent: enter the password again."),
    "other": _("Without a password here, the stored password will be removed and the owner asked for it."),
}


def password_rule_attrs(name: str, *, own: bool) -> dict[str, str]:
    """The data attributes password_rule.js reads: which fields decide where this password goes, and what to do."""
    return {
        "data-password-rule": name,
        "data-rule-mode": "require" if own else "clear",
        "data-rule-note": str(_RULE_NOTES["own" if own else "other"]),
        "data-incoming-binding": " ".join(password_rule.INCOMING_BINDING),
        "data-outgoing-binding": " ".join(password_rule.OUTGOING_BINDING),
    }


def _error_text(error: MailbindError) -> str:
    text = str(error.message)
    holder = error.extra.get("holder") if error.extra else None
    if holder:
        text += " " + str(_("Held by %(email)s.") % {"email": holder["email"]})
    return text


class _ServiceRulesForm(forms.ModelForm):
    """The service's rules are the form's rules; the database constraints are the service's business."""

    actor = None  # the signed-in person; MailAccountAdmin.get_form sets it on the form class it builds per request

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["incoming_username"]
        username.required = False
        username.help_text = _("Leave empty to use the address.")

    def service_data(self) -> dict[str, Any]:
        """What the services take from this form (mail_account_register / mail_account_update's `data`)."""
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            account = self.instance if self.instance.pk else None
            try:
                values = mail_account_clean(data=self.service_data(), account=account)
                if account is not None and self.acting_on_own_account:
                    missing = password_rule.passwords_missing(account=account, cleaned=values)
                    if missing:
                        raise password_rule.password_required_error(missing)
                    moved = password_rule.token_moved(account=account, cleaned=values)
                    if moved:
                        raise password_rule.sign_in_required_error(moved)
            except InvalidInput as exc:
                form_add_product_error(self, exc, summary=exc.code in ("password_required", "sign_in_required"))
        return cleaned

    @property
    def acting_on_own_account(self) -> bool:
        return self.actor is not None and self.actor.pk == self.instance.owner_id

    def validate_unique(self) -> None:
        # The model's conditional constraints name no form field usefully; the service answers 409 sentences.
        return None


class MailAccountChangeForm(_ServiceRulesForm):
    # Write-only, empty keeps the stored password. The password rule decides when one must come with a change.
    incoming_password = _password_input(_("incoming password"), required=False)
    smtp_password = _password_input(_("outgoing password"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The stored passwords never reach the form, not even as its unrendered initial values: an empty box
        # then reads as "unchanged", not as "changed to empty".
        for name in ("incoming_password", "smtp_password"):
            self.initial[name] = ""
        own = self.acting_on_own_account
        for name, field in (("incoming_password", self.fields["incoming_password"]),
                            ("smtp_password", self.fields["smtp_password"])):
            field.help_text = _PASSWORD_HELP["own" if own else "other"]
            # password_rule.js marks the box required (own account) or announces the clearing (someone else's)
            # as soon as a field deciding where this password goes changes; the service enforces it anyway.
            field.widget.attrs.update(password_rule_attrs(name, own=own))

    class Meta:
        model = MailAccount
        fields = SETTINGS_FIELDS

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}


class MailAccountAddForm(_ServiceRulesForm):
    incoming_password = _password_input(_("incoming password"), required=True)
    smtp_password = _password_input(_("outgoing password"), required=False)

    class Meta:
        model = MailAccount
        fields = ["owner", *SETTINGS_FIELDS]

    def service_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "owner"}


class MailPasswordForm(forms.Form):
    password = _password_input(_("new password"), required=True)
    apply_to = forms.ChoiceField(
        label=_("apply to"),
        required=False,
        choices=[
            ("", _("Default (both, when sending uses the same credentials)")),
            ("both", _("Incoming and outgoing servers")),
            ("incoming", _("Incoming server only")),
            ("outgoing", _("Outgoing (SMTP) server only")),
        ],
        help_text=_("A password changed in one place and forgotten in the other makes sending fail."),
    )


class OutcomeFilter(admin.SimpleListFilter):
    title = _("problem")
    parameter_name = "last_error_code__exact"

    def lookups(self, request, model_admin):
        return outcome_choices_present(actor=request.user)

    def queryset(self, request, queryset):
        return queryset.filter(last_error_code=self.value()) if self.value() else queryset


@admin.register(MailAccount)
class MailAccountAdmin(OrganizationScopedAdmin):
    form = MailAccountChangeForm
    add_form = MailAccountAddForm
    list_display = ["address", "owner", "protocol", "status", "problem", "last_checked_at", "disabled_at"]
    list_filter = ["status", OutcomeFilter, "protocol"]
    search_fields = ["address_normalized", "owner__email"]
    list_select_related = ["owner"]
    actions = ["disable_selected", "enable_selected"]
    readonly_fields = [
        "owner", "auth_method", "password", "status", "last_checked_at", "problem", "warnings",
        "disabled_at", "created_at", "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["owner", "address", "protocol", "auth_method", "status", "last_checked_at",
                           "problem", "warnings", "disabled_at"]}),
        (_("Incoming server"), {"fields": [
            "incoming_host", "incoming_port", "incoming_security", "incoming_username", "password",
            "incoming_password",
        ]}),
        (_("Outgoing (SMTP) server"), {"fields": [
            "smtp_host", "smtp_port", "smtp_security", "smtp_same_credentials", "smtp_username",
            "smtp_password", "save_sent_on_server",
        ]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]
    # Adding takes the owner and a password, and shows nothing that only a saved account has (as UserAdmin does).
    add_fieldsets = [
        (None, {"fields": ["owner", "address", "protocol"]}),
        (_("Incoming server"), {"fields": [
            "incoming_host", "incoming_port", "incoming_security", "incoming_username", "incoming_password",
        ]}),
        (_("Outgoing (SMTP) server"), {"fields": [
            "smtp_host", "smtp_port", "smtp_security", "smtp_same_credentials", "smtp_username",
            "smtp_password", "save_sent_on_server",
        ]}),
    ]

    # --- forms ----------------------------------------------------------------------------------------------

    class Media:
        js = ["mailsettings/password_rule.js"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request (modelform_factory): not shared
        return form

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    @admin.display(description=_("password"))
    def password(self, obj: MailAccount) -> str:
        url = reverse("admin:mailsettings_mailaccount_password", args=[obj.pk])
        return format_html('{} <a href="{}">{}</a>', _("Stored encrypted; never shown."), url, _("Change password"))

    @admin.display(description=_("problem"), ordering="last_error_code")
    def problem(self, obj: MailAccount) -> str:
        # The last check's outcome as a sentence; the code stays beside it for support.
        if not obj.last_error_code:
            return "—"
        return format_html('{} <code class="code-secondary">{}</code>', outcome_label(obj.last_error_code),
                           obj.last_error_code)

    @admin.display(description=_("warnings"))
    def warnings(self, obj: MailAccount) -> str:
        return "; ".join(str(w.message) for w in account_warnings(obj)) or "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bindings are history: turn them off instead

    # --- saving through the services -----------------------------------------------------------------------

    def save_model(self, request, obj: MailAccount, form, change: bool) -> None:
        if change:
            account = MailAccount.objects.select_related("owner", "organization").get(pk=obj.pk)
            services.mail_account_update(actor=request.user, account=account, data=form.service_data())
        else:
            account = services.mail_account_register(
                actor=request.user, owner=form.cleaned_data["owner"], data=form.service_data()
            )
            obj.pk = account.pk  # the admin's "added" message and redirect use it

    def save_related(self, request, form, formsets, change) -> None:
        return None  # no relations edited here

    def get_queryset(self, request):
        # The one rule (mailsettings.selectors): the organization's accounts, minus a locked admin's own.
        try:
            return selectors.mail_account_list(actor=request.user)
        except MailbindError:
            return MailAccount.objects.none()

    def _refuse_locked(self, request, object_id) -> HttpResponseRedirect | None:
        """A locked admin reaches neither view, history nor change of their own account: the lock's sentence
        instead. Another tenant's or a missing account is left to Django's own "not found" answer."""
        try:
            selectors.mail_account_get(actor=request.user, account_id=int(unquote(object_id)))
        except (TypeError, ValueError, NotFound):
            return None
        except MailbindError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:mailsettings_mailaccount_changelist"))
        return None

    def history_view(self, request, object_id, extra_context=None):
        return self._refuse_locked(request, object_id) or super().history_view(request, object_id, extra_context)

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        refused = self._refuse_locked(request, object_id) if object_id else None
        if refused is not None:
            return refused
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MailbindError as exc:
            # A conflict found at save time (the address taken meanwhile, a lock just placed): a message, not a 500.
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- change password -----------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.password_view),
                name="mailsettings_mailaccount_password",
            ),
            *super().get_urls(),
        ]

    @method_decorator(sensitive_post_parameters())
    def password_view(self, request, object_id):
        refused = self._refuse_locked(request, object_id)
        if refused is not None:
            return refused
        try:
            account = selectors.mail_account_get(actor=request.user, account_id=int(unquote(object_id)))
        except (TypeError, ValueError, MailbindError):
            raise Http404 from None
        if not self.has_change_permission(request, account):
            raise Http404
        form = MailPasswordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.mail_account_password_change(
                    actor=request.user,
                    account=account,
                    password=form.cleaned_data["password"],
                    apply_to=form.cleaned_data["apply_to"] or None,
                )
            except MailbindError as exc:
                form_add_product_error(form, exc, message=_error_text(exc))
            else:
                self.message_user(request, _("The password of %(address)s was changed.") % {"address": account})
                return HttpResponseRedirect(reverse("admin:mailsettings_mailaccount_change", args=[account.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change password"),
            "opts": self.opts,
            "original": account,
            "form": form,
        }
        return TemplateResponse(request, NEW_CREDENTIAL_TEMPLATE, context)

    # --- bulk actions --------------------------------------------------------------------------------------

    def _each(self, request, queryset, operation, done_message) -> None:
        for account in queryset.select_related("owner", "organization"):
            try:
                operation(actor=request.user, account=account)
            except MailbindError as exc:
                self.message_user(request, f"{account}: {_error_text(exc)}", messages.ERROR)
            else:
                self.message_user(request, done_message % {"address": account})

    @admin.action(description=_("Turn off the selected mail accounts"))
    def disable_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.mail_account_disable, _("Turned off %(address)s."))

    @admin.action(description=_("Turn on the selected mail accounts"))
    def enable_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.mail_account_enable, _("Turned on %(address)s."))


# The "Security settings > Mail users" page: its model is locks' MailUser, its admin composes mailsettings' reads
# and locks' services (locks may not import mailsettings), so it is registered here with the mail accounts.
admin.site.register(MailUser, MailUserAdmin)
admin.site.register(OAuthClient, OAuthClientAdmin)  # the organizations' OAuth clients (mailsettings/admin_oauth.py)
