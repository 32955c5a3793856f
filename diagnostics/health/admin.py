"""The admin's "Mail health" page: counts by status, failing accounts (longest first, with "Check now"), the top
problems of the last 7 days, a 30-day trend, the CSV export, and an administrator's daily digest choice.

Stable admin URL names (namespace "admin"):
- diagnostics_mailhealth_changelist  /admin/diagnostics/mailhealth/            the page (`?organization=ID`: operators)
- diagnostics_mailhealth_check       /admin/diagnostics/mailhealth/check/<id>/ POST: start a check of one account
- diagnostics_mailhealth_export      /admin/diagnostics/mailhealth/export.csv  the CSV (`organization`, `status`,
                                                                                `outcome` filters)
- diagnostics_mailhealth_digest      /admin/diagnostics/mailhealth/digest/     POST: the signed-in admin's digest
"""
from __future__ import annotations

import csv
import datetime
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from config.errors import MailbindError
from diagnostics.health import selectors
from diagnostics.health.chart import chart_series, trend_svg
from diagnostics.health.models import MailHealth
from diagnostics.health.services import failing_statuses
from diagnostics.labels import outcome_title
from diagnostics.notify.preferences import daily_digest_get, daily_digest_set
from diagnostics.services import diagnostic_run_start
from mailsettings.models import AccountStatus

FAILING_SHOWN = 50
TEMPLATE = "admin/diagnostics/mail_health.html"


def _accounts_url(**params) -> str:
    return reverse("admin:mailsettings_mailaccount_changelist") + "?" + urlencode(params)


@admin.register(MailHealth)
class MailHealthAdmin(admin.ModelAdmin):
    # --- a page, not a list of rows: viewing is the only permission ---------------------------------------------
    def has_module_permission(self, request) -> bool:
        return request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_staff

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("check/<int:account_id>/", wrap(self.check_view), name="diagnostics_mailhealth_check"),
            path("export.csv", wrap(self.export_view), name="diagnostics_mailhealth_export"),
            path("digest/", wrap(self.digest_view), name="diagnostics_mailhealth_digest"),
            path("", wrap(self.changelist_view), name="diagnostics_mailhealth_changelist"),
        ]

    def _scope(self, request):
        return selectors.health_scope(actor=request.user, organization_id=request.GET.get("organization"))

    def _page_url(self, request) -> str:
        url = reverse("admin:diagnostics_mailhealth_changelist")
        organization = request.POST.get("organization") or request.GET.get("organization")
        return f"{url}?{urlencode({'organization': organization})}" if organization else url

    # --- the page ------------------------------------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        try:
            scope = self._scope(request)
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:diagnostics_mailhealth_changelist"))
        org_filter = {"organization__exact": scope.organization.pk} if scope.organization else {}
        counts = selectors.status_counts(scope=scope)
        failing_values = failing_statuses()
        failing_total = sum(n for status, _label, n in counts if status in failing_values)
        failing = list(selectors.failing_accounts(scope=scope)[:FAILING_SHOWN])
        top = selectors.top_outcomes(scope=scope)
        trend = selectors.status_trend(scope=scope, today_counts=counts)
        series = chart_series(trend)
        context = {
            **self.admin_site.each_context(request),
            **(extra_context or {}),
            "opts": self.opts,
            "title": _("Mail health"),
            "scope": scope,
            "organizations": Organization.objects.order_by("name") if request.user.is_superuser else None,
            "counts": [
                {"status": status, "label": label, "count": n, "failing": status in failing_values,
                 "url": _accounts_url(status__exact=status, **org_filter)}
                for status, label, n in counts
            ],
            "failing": [
                {"account": account, "outcome": account.last_error_code,
                 "outcome_title": outcome_title(account.last_error_code), "since": account.failing_since}
                for account in failing
            ],
            "failing_total": failing_total,
            "failing_more": failing_total > len(failing),
            "failing_url": _accounts_url(status__in=",".join(failing_values), disabled_at__isnull="True",
                                         **org_filter),
            "top": [{"outcome": code, "title": outcome_title(code), "accounts": n,
                     "url": _accounts_url(last_error_code__exact=code, **org_filter)} for code, n in top],
            "trend_days": selectors.TREND_DAYS,
            "top_days": selectors.TOP_OUTCOME_DAYS,
            "chart": trend_svg(trend, series),
            "series": series,
            "trend": trend,
            "trend_rows": [
                {"day": day, "values": [line.values[i] for line in series]} for i, day in enumerate(trend.days)
            ],
            "export_url": reverse("admin:diagnostics_mailhealth_export")
            + ("?" + urlencode({"organization": scope.organization.pk}) if scope.organization else ""),
            "status_choices": AccountStatus.choices,
            "digest": daily_digest_get(user=request.user) if request.user.is_org_admin else None,
            "page_url": self._page_url(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, TEMPLATE, context)

    # --- "Check now" ----------------------------------------------------------------------------------------------
    def check_view(self, request, account_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            run, created = diagnostic_run_start(actor=request.user, account_id=account_id)
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            address = run.account.address if run.account_id else ""
            message = (_("Checking %(address)s now. Its status changes here when the check finishes.") if created
                       else _("%(address)s is already being checked."))
            self.message_user(request, message % {"address": address}, messages.SUCCESS)
        return HttpResponseRedirect(self._page_url(request))

    # --- the daily digest (an administrator's own choice) ---------------------------------------------------------
    def digest_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            enabled = daily_digest_set(user=request.user, enabled=request.POST.get("daily_digest") == "on")
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _("You will get a daily email listing failing accounts.") if enabled
                              else _("You will no longer get the daily email."), messages.SUCCESS)
        return HttpResponseRedirect(self._page_url(request))

    # --- CSV export -----------------------------------------------------------------------------------------------
    def export_view(self, request):
        try:
            scope = self._scope(request)
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:diagnostics_mailhealth_changelist"))
        status = request.GET.get("status", "")
        status = status if status in AccountStatus.values else ""
        outcome = request.GET.get("outcome", "")[:64]
        rows = selectors.export_accounts(scope=scope, status=status, outcome=outcome)
        name = f"mail-health-{timezone.localdate():%Y-%m-%d}.csv"
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): a leading =, +, -, @ gets a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        text = timezone.localtime(value).replace(microsecond=0).isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_lines(rows):
    writer = csv.writer(_Echo())
    status_labels = {value: str(label) for value, label in AccountStatus.choices}
    titles: dict[str, str] = {}
    yield "\ufeff"  # a BOM, so spreadsheet programs read UTF-8 (Japanese) correctly
    yield writer.writerow(selectors.EXPORT_COLUMNS)
    for organization, owner, address, protocol, status, outcome, since, checked, disabled in rows.iterator(
            chunk_size=2000):
        if outcome not in titles:
            titles[outcome] = str(outcome_title(outcome)) if outcome else ""
        yield writer.writerow([_cell(v) for v in (
            organization, owner, address, protocol, status, status_labels.get(status, status), outcome,
            titles[outcome], since, checked, disabled,
        )])

