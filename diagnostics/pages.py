"""Server-rendered pages of /settings/email/ and /tools/: thin views over the SAME services as the API.

Every rule lives in the services (mailsettings, diagnostics); a refusal is rendered as its sentence — the lock of
T7/T9 (docs/scenarios.md) instead of the form, T6 next to the address, validation next to each field — never a code
or a traceback.
Progress of a run: with JavaScript the page polls an HTML fragment every POLL_SECONDS; without it, the page
reloads itself every REFRESH_SECONDS (<noscript><meta refresh>) until the run has finished, then shows the advice.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.throttling import ScopedRateThrottle

from config.errors import MailbindError, Throttled
from config.exception_handler import as_product_error
from config.form_errors import form_add_product_error
from diagnostics import judge, selectors, services
from diagnostics.errors import SentTestNeedsImap
from diagnostics.forms import DomainDetailsForm, PortCheckForm
from diagnostics.mail_records_text import describe
from diagnostics.models import STEPS_OF_KIND, DiagnosticRun, RunKind
from diagnostics.oauth.offers import SIGN_IN_CODES, oauth_offer_for_account, oauth_offer_for_detection
from diagnostics.results import Step
from locks.errors import SettingsLocked
from mailsettings import selectors as mail_selectors
from mailsettings import services as mail_services
from mailsettings.forms import MailAccountForm, PasswordChangeForm
from mailsettings.models import MailAccount
from mailsettings.oauth_providers import provider_display_name
from mailsettings.vocabulary import Security
from mailsettings.warnings import account_warnings

STEP_LABELS = {
    Step.SETTINGS: _("Ports and security"),
    Step.DOMAIN: _("Mail provider"),
    Step.DNS: _("Server names"),
    Step.PORT: _("Connection to the ports"),
    Step.TLS: _("Secure connection"),
    Step.GREETING: _("Server answers"),
    Step.LOGIN: _("Sign-in to the incoming server"),
    Step.FOLDERS: _("Inbox and Sent folders"),
    Step.SMTP_AUTH: _("Sign-in to the outgoing server"),
    Step.DUPLICATES: _("Copies of sent mail"),
    Step.SEND: _("Sending the test message"),
    Step.SENT_FOLDER: _("Copies in the Sent folder"),
    Step.CLEANUP: _("Deleting the test messages"),
}
POLL_SECONDS = 2  # the JavaScript poller
REFRESH_SECONDS = 5  # the whole page's reload without JavaScript: heavier, so less often


# --- errors as sentences ----------------------------------------------------------------------------------------

def render_error(request: HttpRequest, error: MailbindError, *, back_url: str = "/") -> HttpResponse:
    if isinstance(error, SettingsLocked):
        # Who locked and since when (the error's ISO timestamp, shown in the reader's format and time zone).
        locked_at = parse_datetime((error.extra or {}).get("locked_at") or "")
        context = {"error": error, "nav": "email", "locked_at": locked_at}
        return render(request, "diagnostics/locked.html", context, status=error.status_code)
    return render(request, "error.html", {"error": error, "back_url": back_url}, status=error.status_code)


def product_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in pages: any product error escaping a view becomes its sentence on a page, anything else stays a bug
    (500). Never cached: they show one person's settings (and the browser's back button must not show them after
    signing out)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Exception as exc:
            error = as_product_error(exc)
            if error is None:
                raise
            return render_error(request, error)

    return never_cache(login_required(wrapped))


def throttle(request: HttpRequest, scope: str) -> None:
    """The API's rate of a scope ("diagnostics", "tools", "lookups"), shared with it: same cache keys and rates."""

    class _View:
        throttle_scope = scope

    limiter = ScopedRateThrottle()
    if not limiter.allow_request(request, _View()):
        wait = limiter.wait()
        raise Throttled(extra={"retry_after": int(wait)} if wait else None)


# --- runs ------------------------------------------------------------------------------------------------------

def run_context(run: DiagnosticRun, *, viewer: Any = None) -> dict[str, Any]:
    """What the progress partial shows: finished steps, the ones still to come, and the advice once finished."""
    steps = list(run.steps.all())  # in position order (the model's ordering), prefetched by the selectors
    rows = [
        {"name": s.name, "label": STEP_LABELS.get(s.name, s.name), "status": s.status,
         "status_label": s.get_status_display(),
         "message": judge.step_message(name=s.name, status=s.status, code=s.code, details=s.details),
         "certificates": judge.certificate_facts(s.details) if s.name == Step.TLS else []}
        for s in steps
    ]
    finished = run.is_finished
    if not finished:
        done = {s.name for s in steps}
        rows += [{"name": name, "label": STEP_LABELS.get(name, name), "status": "waiting",
                  "status_label": _("Waiting"), "message": ""}
                 for name in STEPS_OF_KIND[run.kind] if name not in done]
    advice = judge.run_advice(run)
    domain = next((s.details for s in steps if s.name == Step.DOMAIN), None)
    if domain and run.kind == RunKind.DOMAIN_DETAILS:
        domain = {**domain, "incoming_security_label": _security_label(domain.get("incoming")),
                  "outgoing_security_label": _security_label(domain.get("outgoing"))}
    domain_step = next((s for s in steps if s.name == Step.DOMAIN), None)
    records = (domain_step.details or {}).get("records") if domain_step is not None else None
    return {
        "records": [describe(check) for check in records.get("checks", [])] if records else [],
        "records_domain": records.get("domain", "") if records else "",
        "run": run, "rows": rows, "finished": finished, "advice": advice,
        "all_ok": finished and [a["code"] for a in advice] == ["ok"],
        "done_count": len(steps), "total_count": max(len(rows), len(steps)),
        "domain_details": domain if run.kind == RunKind.DOMAIN_DETAILS else None,
        "poll_seconds": POLL_SECONDS, "refresh_seconds": REFRESH_SECONDS,
        # "Sign in with ..." next to advice that calls for it (an OAuth2 sign-in instead of, or again)
        # (only to the account's owner: the button signs in for the viewer's own binding)
        "oauth_offer": oauth_offer_for_account(run.account)
        if finished and run.account_id and viewer is not None and run.account.owner_id == viewer.pk else None,
        "oauth_sign_in_codes": SIGN_IN_CODES,
    }


def _security_label(server: Any) -> Any:
    """The translated name of a server's security (SSL/TLS, STARTTLS, None), not its code."""
    code = (server or {}).get("security", "")
    return Security(code).label if code in Security.values else code


def _run_urls(run: DiagnosticRun) -> dict[str, str]:
    if run.kind in (RunKind.ACCOUNT, RunKind.SENT_TEST):
        return {"page": reverse("email-run", args=[run.pk]), "steps": reverse("email-run-steps", args=[run.pk]),
                "back": reverse("email-settings")}
    back = "tool-port-check-page" if run.kind == RunKind.PORT_CHECK else "tool-domain-details-page"
    return {"page": reverse("tool-run", args=[run.pk]), "steps": reverse("tool-run-steps", args=[run.pk]),
            "back": reverse(back)}


@product_errors
def run_page(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.diagnostic_run_get(actor=request.user, run_id=pk)
    nav = {RunKind.ACCOUNT: "email", RunKind.PORT_CHECK: "port", RunKind.DOMAIN_DETAILS: "domain",
           RunKind.SENT_TEST: "email"}[run.kind]
    return render(request, "diagnostics/run.html",
                  {**run_context(run, viewer=request.user), "urls": _run_urls(run), "nav": nav})


@product_errors
def run_steps(request: HttpRequest, pk: int) -> HttpResponse:
    """The fragment the page polls: the same partial the page renders (never cached, as every signed-in page)."""
    run = selectors.diagnostic_run_get(actor=request.user, run_id=pk)
    return render(request, "diagnostics/_run_steps.html",
                  {**run_context(run, viewer=request.user), "urls": _run_urls(run)})


# --- /settings/email/ -------------------------------------------------------------------------------------------

def _start_check(request: HttpRequest, account: MailAccount) -> HttpResponse:
    """Start a run of `account` and show its progress; a refusal (throttle, queue down) is a message."""
    try:
        throttle(request, "diagnostics")
        run, _created = services.diagnostic_run_start(actor=request.user, account_id=account.pk)
    except MailbindError as error:
        if isinstance(error, SettingsLocked):
            raise
        messages.error(request, str(error.message))
        return redirect("email-settings")
    return redirect("email-run", pk=run.pk)


def _with_account(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view gets the user's own active account; without one, back to the form. The selector refuses
    operators and a locked user (its sentence, not "no account")."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = mail_selectors.mail_account_own_get(actor=request.user)
        if account is None:
            return redirect("email-settings")
        return view(request, account, *args, **kwargs)

    return product_errors(wrapped)


@sensitive_post_parameters("incoming_password", "smtp_password")
@require_http_methods(["GET", "POST"])
@product_errors
def email_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    account = mail_selectors.mail_account_own_get(actor=user)  # locked: the sentence instead of the form
    if account is None:
        return _new_account(request)
    if request.method == "POST":
        return redirect("email-settings")
    in_flight, last = selectors.diagnostic_run_latest_for_account(actor=user, account_id=account.pk)
    context = {
        "nav": "email", "account": account, "warnings": account_warnings(account),
        "in_flight": in_flight, "last_run": last, "last_advice": judge.run_advice(last) if last else [],
        "oauth_offer": oauth_offer_for_account(account), "oauth_sign_in_codes": SIGN_IN_CODES,
        "oauth_provider_name": (provider_display_name(account.oauth_credential.provider)
                                if account.auth_method == "oauth2" else ""),
    }
    return render(request, "diagnostics/email_account.html", context)


def _new_account(request: HttpRequest) -> HttpResponse:
    user = request.user
    detection = None
    status = 200
    holder = None
    if request.method != "POST":
        form = MailAccountForm()
    elif "detect" in request.POST:
        try:
            throttle(request, "lookups")  # the API's providers/detect/ rate: a full look-up costs DNS, HTTPS, probes
            detection = mail_selectors.provider_detect(
                actor=user, address=request.POST.get("address"), protocol=request.POST.get("protocol")
            )
        except MailbindError as error:
            if isinstance(error, SettingsLocked):
                raise
            form = MailAccountForm(request.POST)
            form.is_valid()
            form_add_product_error(form, error, summary=True)
            status = error.status_code
        else:
            form = MailAccountForm.from_detection(data=request.POST, detection=detection)
    else:
        form = MailAccountForm(request.POST)
        account = form.register(actor=user, owner=user)
        if account is not None:
            messages.success(request, _("Your mail account was saved. It is being checked now."))
            return _start_check(request, account)
        status = form.error.status_code if form.error is not None else 400
        holder = (form.error.extra or {}).get("holder") if form.error is not None else None
    saves_sent = form.provider_saves_sent(detection=detection)
    context = {"nav": "email", "form": form, "detection": detection, "saves_sent": saves_sent, "holder": holder,
               "detect_url": reverse("provider-detect"),
               "oauth_offer": oauth_offer_for_detection(detection, user.organization_id)}
    return render(request, "diagnostics/email_new.html", context, status=status)


@require_POST
@_with_account
def email_test(request: HttpRequest, account: MailAccount) -> HttpResponse:
    return _start_check(request, account)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
@_with_account
def email_password(request: HttpRequest, account: MailAccount) -> HttpResponse:
    # After an administrator moved the account (password rule), the side whose password was removed is chosen.
    missing = account.missing_passwords
    initial = {"apply_to": missing[0] if len(missing) == 1 and not account.smtp_same_credentials else "both"}
    form = PasswordChangeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        changed = form.change(actor=request.user, account=account)
        if changed is not None:
            messages.success(request, _("The password was changed. The account is being checked now."))
            return _start_check(request, changed)
    status = 400 if form.is_bound else 200
    return render(request, "diagnostics/email_password.html",
                  {"nav": "email", "form": form, "account": account}, status=status)


@require_http_methods(["GET", "POST"])
@_with_account
def email_sent_test(request: HttpRequest, account: MailAccount) -> HttpResponse:
    """Shows exactly what will be sent; the POST sends it (the person confirmed). POP3: the explanation instead."""
    if account.protocol != "imap":
        return render(request, "diagnostics/email_sent_test.html",
                      {"nav": "email", "account": account, "error": SentTestNeedsImap()}, status=200)
    if request.method == "POST":
        try:
            throttle(request, "sent_test")
            run = services.sent_test_start(actor=request.user, account_id=account.pk)
        except MailbindError as error:
            if isinstance(error, SettingsLocked):
                raise
            messages.error(request, str(error.message))
            return redirect("email-sent-test")
        return redirect("email-run", pk=run.pk)
    preview = selectors.sent_test_preview(actor=request.user, account_id=account.pk)
    return render(request, "diagnostics/email_sent_test.html", {"nav": "email", "account": account,
                                                                 "preview": preview})


@require_http_methods(["GET", "POST"])
@_with_account
def email_turn_off(request: HttpRequest, account: MailAccount) -> HttpResponse:
    if request.method == "POST":
        mail_services.mail_account_disable(actor=request.user, account=account)
        messages.success(request, _("IMAP/POP3 is turned off for %(address)s. The address is free again.")
                         % {"address": account.address})
        return redirect("email-settings")
    return render(request, "diagnostics/email_turn_off.html", {"nav": "email", "account": account})


# --- /tools/ ------------------------------------------------------------------------------------------------------

def _tool(request: HttpRequest, *, form_class, template: str, nav: str, start) -> HttpResponse:
    form = form_class(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                throttle(request, "tools")
                run = start(actor=request.user, **form.cleaned_data)
            except MailbindError as error:
                form_add_product_error(form, error, summary=True)
                status = error.status_code
            else:
                return redirect("tool-run", pk=run.pk)
        else:
            status = 400
    return render(request, template, {"nav": nav, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@product_errors
def tool_port_check(request: HttpRequest) -> HttpResponse:
    return _tool(request, form_class=PortCheckForm, template="diagnostics/tool_port_check.html", nav="port",
                 start=services.tool_port_check_start)


@require_http_methods(["GET", "POST"])
@product_errors
def tool_domain_details(request: HttpRequest) -> HttpResponse:
    return _tool(request, form_class=DomainDetailsForm, template="diagnostics/tool_domain_details.html",
                 nav="domain", start=services.tool_domain_details_start)
