"""Diagnostic runs in the admin, read-only and organization-scoped, in plain words: kinds, statuses and outcomes as
sentences (codes as tooltips and secondary text for support), and a run's steps as a table with the transcript
folded away. Also gives the mail-account and mail-user lists their "Check now" action (mailsettings, which owns
those pages, never imports diagnostics)."""
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin
from config.errors import MailbindError, NotFound
from diagnostics import judge, selectors
from diagnostics.labels import known_outcomes, outcome_title
from diagnostics.models import DiagnosticRun
from diagnostics.pages import STEP_LABELS
from diagnostics.services import diagnostic_run_start
from locks.errors import SettingsLocked
from locks.models import MailUser
from mailsettings.access import mail_settings_check_access
from mailsettings.mail_users import mail_user_account
from mailsettings.models import MailAccount


class OutcomeFilter(admin.SimpleListFilter):
    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("ok", outcome_title("ok")), *known_outcomes()]

    def queryset(self, request, queryset):
        return queryset.filter(outcome=self.value()) if self.value() else queryset


@admin.display(description=_("outcome"), ordering="outcome")
def outcome_text(run: DiagnosticRun):
    if not run.outcome:
        return "—"
    return format_html('{} <code class="code-secondary">{}</code>', outcome_title(run.outcome), run.outcome)


@admin.register(DiagnosticRun)
class DiagnosticRunAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = ["id", "kind", "about", "status", outcome_text, "trigger", "created_at", "finished_at"]
    list_filter = ["status", OutcomeFilter, "kind", "trigger"]
    list_select_related = ["account"]
    search_fields = ["account__address", "outcome"]
    fields = ["organization", "kind", "about", "trigger", "requested_by", "status", outcome_text, "attempts",
              "created_at", "started_at", "finished_at", "advice", "step_table"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None) -> bool:
        return self._in_scope(request, obj)

    def get_queryset(self, request):
        # A locked admin's own account is out of their reach (docs/scenarios.md T7/T9), and so are its runs: the one
        # access check (mailsettings.access) decides, as for the account itself in mailsettings' admin.
        runs = super().get_queryset(request).select_related("account", "requested_by")
        if request.user.is_superuser:
            return runs
        try:
            mail_settings_check_access(actor=request.user, owner=request.user)
        except SettingsLocked:
            return runs.exclude(account__owner=request.user)
        return runs

    def _refuse_locked(self, request, object_id):
        """The lock's sentence instead of a locked admin's own account's run (the API's and the pages' selector);
        another tenant's or a missing run is left to Django's own "not found" answer."""
        try:
            selectors.diagnostic_run_get(actor=request.user, run_id=int(unquote(object_id)))
        except (TypeError, ValueError, NotFound):
            return None
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:diagnostics_diagnosticrun_changelist"))
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        refused = self._refuse_locked(request, object_id) if object_id else None
        return refused or super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._refuse_locked(request, object_id) or super().history_view(request, object_id, extra_context)

    @admin.display(description=_("checked"))
    def about(self, run: DiagnosticRun):
        if run.account_id:
            return run.account.address
        target = run.target or {}
        if "host" in target:
            return f"{target['host']}:{target.get('port', '')}"
        return target.get("domain", "—")

    @admin.display(description=_("advice"))
    def advice(self, run: DiagnosticRun):
        if not run.is_finished:
            return "—"
        return render_to_string("admin/diagnostics/_run_advice.html", {"items": judge.run_advice(run)})

    @admin.display(description=_("steps"))
    def step_table(self, run: DiagnosticRun):
        rows = []
        for step in run.steps.all():
            details = dict(step.details or {})
            transcript = details.pop("transcript", None) or []
            rows.append({
                "label": STEP_LABELS.get(step.name, step.name), "name": step.name, "status": step.status,
                "status_label": step.get_status_display(), "code": step.code,
                # Written in English when the step finished; read here in the reader's language.
                "message": judge.step_message(name=step.name, status=step.status, code=step.code, details=details),
                "duration_ms": step.duration_ms, "facts": _facts(details), "transcript": "\n".join(transcript),
            })
        return render_to_string("admin/diagnostics/_run_steps_table.html", {"rows": rows})


def _facts(details: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested step details flattened to (name, value) pairs: "incoming host: imap.example.com"."""
    facts = []
    for key, value in details.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            facts += _facts(value, prefix=f"{name} · ")
        elif isinstance(value, list):
            facts.append((name, ", ".join(str(v) if not isinstance(v, dict) else
                                          ", ".join(f"{k}={w}" for k, w in v.items()) for v in value) or "—"))
        else:
            facts.append((name, "—" if value in ("", None) else str(value)))
    return facts


# --- "Check now" on the mail-account and mail-user lists ------------------------------------------------------

def _check_accounts(modeladmin, request, accounts) -> None:
    started = 0
    for account in accounts:
        try:
            diagnostic_run_start(actor=request.user, account_id=account.pk)
        except MailbindError as exc:
            modeladmin.message_user(request, f"{account.address}: {exc.message}", messages.ERROR)
        else:
            started += 1
    if started:
        modeladmin.message_user(request, _("Checking %(count)d accounts now; their status changes when each check "
                                           "finishes.") % {"count": started}, messages.SUCCESS)


@admin.action(description=_("Check the selected mail accounts now"))
def check_accounts_now(modeladmin, request, queryset) -> None:
    _check_accounts(modeladmin, request, queryset.filter(disabled_at__isnull=True))


@admin.action(description=_("Check the mail of the selected users now"))
def check_users_now(modeladmin, request, queryset) -> None:
    accounts = [account for account in map(mail_user_account, queryset) if account is not None and account.is_active]
    _check_accounts(modeladmin, request, accounts)


def _add_action(model, action) -> None:
    model_admin = admin.site.get_model_admin(model)
    if action not in model_admin.actions:
        model_admin.actions = [*model_admin.actions, action]


_add_action(MailAccount, check_accounts_now)
_add_action(MailUser, check_users_now)


# The health page, the webhook endpoints and the delivery logs live in their own modules; importing them
# registers them.
from diagnostics.health import admin as _health_admin  # noqa: E402, F401
from diagnostics.notify import admin as _notify_admin  # noqa: E402, F401
