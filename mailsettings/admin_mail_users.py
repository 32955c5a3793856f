"""The Django admin's "Security settings > Mail users" page (docs/scenarios.md T7/T9): the organization's users
with a mail binding or a lock, and buttons to lock or unlock their mail settings.

Stable admin URL names (namespace "admin"):
- locks_mailuser_changelist  /admin/locks/mailuser/              the list (`?shown=all` for every user)
- locks_mailuser_lock        /admin/locks/mailuser/<id>/lock/    confirmation page; POST (CSRF) locks
- locks_mailuser_unlock      /admin/locks/mailuser/<id>/unlock/  confirmation page; POST (CSRF) unlocks
Bulk actions on the list: `lock_selected`, `unlock_selected` (each through a confirmation page).

Every change goes through locks.services, so the rules (same organization, admins only, nobody unlocks their own
lock, the database decides races) hold here exactly as in the API; refusals come back as admin messages.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OrganizationScopedAdmin
from config.errors import MailbindError
from locks import services as lock_services
from mailsettings.mail_users import (
    mail_user_account,
    mail_user_lock,
    mail_users_annotate,
    mail_users_bound_or_locked,
)
from mailsettings.models import AccountStatus, MailAccount
from mailsettings.outcomes import outcome_choices_present, outcome_label
from mailsettings.services import mail_account_disable

CONFIRM_TEMPLATE = "admin/mail_users/confirm.html"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


class ShownFilter(admin.SimpleListFilter):
    """By default the page is about users with a mail binding or a lock; "All users" finds anyone to lock."""

    title = _("shown")
    parameter_name = "shown"

    def lookups(self, request, model_admin):
        return [("all", _("All users"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("With mail settings or a lock"),
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queryset if self.value() == "all" else mail_users_bound_or_locked(queryset)


class LockedFilter(admin.SimpleListFilter):
    title = _("settings lock")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", _("Locked")), ("no", _("Not locked"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(mail_settings_locked=self.value() == "yes")
        return queryset


class AccountStatusFilter(admin.SimpleListFilter):
    """The status of the user's active mail account, from the model's choices ("Turned off": none active, the
    latest turned off)."""

    title = _("account status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AccountStatus.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() == AccountStatus.DISABLED:
            turned_off = MailAccount.objects.filter(owner=OuterRef("pk"), disabled_at__isnull=False)
            return queryset.filter(has_mail_account=False).filter(Exists(turned_off))
        active = MailAccount.objects.filter(owner=OuterRef("pk"), disabled_at__isnull=True, status=self.value())
        return queryset.filter(Exists(active))


class OutcomeFilter(admin.SimpleListFilter):
    """The problem the last check of the user's active account found, as a sentence (mailsettings.outcomes)."""

    title = _("problem")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return outcome_choices_present(actor=request.user)

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        active = MailAccount.objects.filter(owner=OuterRef("pk"), disabled_at__isnull=True,
                                            last_error_code=self.value())
        return queryset.filter(Exists(active))


# Few, dense columns: the page fits 1280 px without scrolling sideways. One name per column in both languages.
@admin.display(description=_("user"), ordering="email")
def email(user) -> str:
    return user.email


@admin.display(description=_("mail account"))
def mail_account(user) -> str:
    account = mail_user_account(user)
    if account is None:
        return "—"
    return format_html('{} <span class="mail-users-protocol">({})</span>', account.address,
                       account.get_protocol_display())


@admin.display(description=_("account status"))
def account_status(user) -> str:
    account = mail_user_account(user)
    if account is None:
        return _("No mail account")
    if not account.last_error_code:
        return account.get_status_display()
    return format_html('{}<br><span class="mail-users-problem" title="{}">{}</span>', account.get_status_display(),
                       account.last_error_code, outcome_label(account.last_error_code))


def lock_text(user) -> str:
    """"Locked by A. Admin, 2026-11-29 10:04" or "Not locked": one line under the lock button."""
    lock = mail_user_lock(user)
    if lock is None:
        return format_html('<span class="mail-users-lock-state">{}</span>', _("Not locked"))
    return format_html(
        '<span class="mail-users-lock-state is-locked">{}</span>',
        _("Locked by %(name)s, %(when)s") % {
            "name": lock.locked_by_name or _("a removed user"),
            "when": date_format(timezone.localtime(lock.locked_at), "DATETIME_FORMAT"),
        },
    )


class MailUserAdmin(OrganizationScopedAdmin):
    list_display_links = None
    list_filter = [ShownFilter, LockedFilter, AccountStatusFilter, OutcomeFilter]
    search_fields = ["email", "full_name", "mail_accounts__address"]
    ordering = ["email"]
    actions = ["lock_selected", "unlock_selected", "turn_off_selected"]

    class Media:
        css = {"all": ["mailsettings/mail_users.css"]}
    # The detail page is read-only and shows no password hash; changes to people are made under Users.
    fields = ["email", "full_name", "organization", "role", "is_active"]
    readonly_fields = fields

    # --- Permissions: a view with two operations, never adds, edits or deletes people ---------------------------
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Operators have no mail settings; organization admins see only their organization (OrganizationScopedAdmin).
        return mail_users_annotate(super().get_queryset(request).filter(organization__isnull=False))

    # --- The list --------------------------------------------------------------------------------------------
    def get_list_display(self, request):
        actor = request.user
        filters = request.GET.urlencode()

        # A closure, because the button depends on who is looking: nobody gets a button for their own lock.
        @admin.display(description=_("settings lock"), ordering="mail_settings_locked")
        def settings_lock_button(user):
            lock = mail_user_lock(user)
            if user.pk == actor.pk:
                if lock is None:
                    return lock_text(user)  # locking yourself is refused: nobody offers a button that cannot work
                return format_html(
                    '<span class="mail-users-own-lock">{}</span><br>{}',
                    _("Locked: ask another administrator to unlock."), lock_text(user),
                )
            name, label = ("unlock", _("Unlock settings")) if lock is not None else ("lock", _("Lock settings"))
            url = reverse(f"admin:locks_mailuser_{name}", args=[user.pk])
            if filters:
                url += "?" + urlencode({"_changelist_filters": filters})
            return format_html(
                '<a class="button mail-users-{}" style="white-space: nowrap" href="{}">{}</a><br>{}', name, url, label,
                lock_text(user),
            )

        # Four dense columns (the lock's state under its button) fit 1280 px beside both sidebars; on a narrow
        # screen the table scrolls and the button, beside the email, stays in view.
        columns = [email, settings_lock_button, mail_account, account_status]
        return ["organization", *columns] if actor.is_superuser else columns

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": _("Mail users"), **(extra_context or {})})

    # --- One user: a confirmation page, then a POST ----------------------------------------------------------
    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"  # locks_mailuser
        return [
            path("<path:object_id>/lock/", self.admin_site.admin_view(self.lock_view), name=f"{prefix}_lock"),
            path("<path:object_id>/unlock/", self.admin_site.admin_view(self.unlock_view), name=f"{prefix}_unlock"),
            *super().get_urls(),
        ]

    def _changelist_url(self, request) -> str:
        url = reverse("admin:locks_mailuser_changelist")
        filters = request.GET.get("_changelist_filters")
        return f"{url}?{filters}" if filters else url

    def lock_view(self, request, object_id):
        return self._single_view(request, object_id, operation="lock")

    def unlock_view(self, request, object_id):
        return self._single_view(request, object_id, operation="unlock")

    def _single_view(self, request, object_id, *, operation: str):
        user = self.get_object(request, object_id)
        if user is None:
            # Another organization's user is indistinguishable from a missing one.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            form = ReasonForm(request.POST)
            if form.is_valid():
                self._apply(request, user, operation=operation, reason=form.cleaned_data["reason"])
                return HttpResponseRedirect(self._changelist_url(request))
        else:
            form = ReasonForm()
        return self._confirm(request, [user], operation=operation, form=form, bulk_action=None)

    # --- Bulk actions ----------------------------------------------------------------------------------------
    @admin.action(description=_("Lock settings of selected users"))
    def lock_selected(self, request, queryset):
        return self._bulk(request, queryset, operation="lock", action="lock_selected")

    @admin.action(description=_("Unlock settings of selected users"))
    def unlock_selected(self, request, queryset):
        return self._bulk(request, queryset, operation="unlock", action="unlock_selected")

    def _bulk(self, request, queryset, *, operation: str, action: str):
        users = list(queryset)
        if request.POST.get("post") == "yes":
            form = ReasonForm(request.POST)
            if form.is_valid():
                for user in users:
                    self._apply(request, user, operation=operation, reason=form.cleaned_data["reason"])
                return None  # back to the list, with one message per user
        else:
            form = ReasonForm()
        return self._confirm(request, users, operation=operation, form=form, bulk_action=action)

    @admin.action(description=_("Turn IMAP/POP3 off for the selected users"))
    def turn_off_selected(self, request, queryset):
        for user in queryset:
            account = mail_user_account(user)
            if account is None or not account.is_active:
                continue
            try:
                mail_account_disable(actor=request.user, account=account)
            except MailbindError as error:
                self.message_user(request, f"{user.email}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, _("Turned off %(address)s.") % {"address": account.address},
                                  messages.SUCCESS)

    # --- Shared -----------------------------------------------------------------------------------------------
    def _apply(self, request, user, *, operation: str, reason: str) -> None:
        """Call the service; a refusal or a lost race (another admin was faster) is a message, never a 500."""
        try:
            if operation == "lock":
                lock_services.settings_lock_create(actor=request.user, user=user, reason=reason)
                done = _("Locked mail settings of %(email)s") % {"email": user.email}
            else:
                lock_services.settings_lock_release(actor=request.user, user=user, reason=reason)
                done = _("Unlocked mail settings of %(email)s") % {"email": user.email}
        except MailbindError as error:
            self.message_user(request, f"{user.email}: {error.message}", messages.ERROR)
            return
        self.message_user(request, done, messages.SUCCESS)

    def _confirm(self, request, users, *, operation: str, form, bulk_action: str | None):
        if operation == "lock":
            title = _("Lock mail settings")
            question = _("Lock the mail settings of these users? They will not be able to view or change their "
                         "mail settings until another administrator unlocks them.")
            submit = _("Yes, lock settings")
        else:
            title = _("Unlock mail settings")
            question = _("Unlock the mail settings of these users? They will be able to change them again.")
            submit = _("Yes, unlock settings")
        rows = [{"user": user, "account": mail_user_account(user), "lock": mail_user_lock(user)} for user in users]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "question": question,
            "submit_label": submit,
            "operation": operation,
            "rows": rows,
            "form": form,
            "bulk_action": bulk_action,
            "selected": [user.pk for user in users],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "cancel_url": self._changelist_url(request) if bulk_action is None else request.get_full_path(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
