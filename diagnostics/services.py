"""Writes of diagnostics: starting runs (with the guards that keep the service from being abused), enqueueing them,
the periodic sweep and re-check, and what a finished run changes on the account."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import audit_record
from config.errors import InvalidInput, PermissionDenied
from diagnostics import judge
from diagnostics.errors import (
    AccountDisabled,
    PasswordNeededFirst,
    QueueUnavailable,
    RunInFlight,
    SentTestNeedsImap,
    SentTestNeedsPassword,
    TooManyFailedSignIns,
)
from diagnostics.health.services import account_status_locked, health_after_check
from diagnostics.models import IN_FLIGHT, DiagnosticRun, DiagnosticStep, RunKind, RunStatus, RunTrigger
from diagnostics.notify.models import WebhookEvent
from diagnostics.notify.subscriptions import organization_listens
from diagnostics.probes.dns import same_server_addresses
from diagnostics.runner import allowed_ports, longest_run_seconds, run_mark_error
from mailsettings.hosts import HostError, normalize_host
from mailsettings.models import AccountStatus, MailAccount
from mailsettings.selectors import mail_account_active_for_recheck, mail_account_get
from mailsettings.services import mail_account_record_check

logger = logging.getLogger(__name__)


# --- starting runs ---------------------------------------------------------------------------------------------

def diagnostic_run_start(*, actor: User, account_id: int) -> tuple[DiagnosticRun, bool]:
    """A user asks to check an account. Returns (run, created): a run already in flight is returned as it is."""
    account = mail_account_get(actor=actor, account_id=account_id)  # tenant scope and settings lock
    if not account.is_active:
        raise AccountDisabled()
    in_flight = _in_flight(account)
    if in_flight is not None:
        return in_flight, False
    _guard_failed_sign_ins(account)
    run, created = diagnostic_run_create_for_account(account=account, trigger=RunTrigger.USER, requested_by=actor)
    if created:
        audit_record(action="diagnostic.started", actor=actor, organization=account.organization, target=account,
                     details={"run": run.pk})
        run_enqueue(run)
    return run, created


def diagnostic_run_create_for_account(
    *, account: MailAccount, trigger: str, requested_by: User | None = None
) -> tuple[DiagnosticRun, bool]:
    """Create a queued run unless one is in flight (the database decides: one in flight per account)."""
    try:
        with transaction.atomic():
            run = DiagnosticRun.objects.create(
                organization_id=account.organization_id, account=account, kind=RunKind.ACCOUNT,
                trigger=trigger, requested_by=requested_by,
            )
        return run, True
    except IntegrityError:
        existing = _in_flight(account)
        if existing is None:  # it finished between the insert and this read
            return diagnostic_run_create_for_account(account=account, trigger=trigger, requested_by=requested_by)
        return existing, False


def sent_test_start(*, actor: User, account_id: int) -> DiagnosticRun:
    """"Send a test message" (never scheduled): one tagged message from the account to itself, its copies counted
    in Sent, then deleted. IMAP accounts only; not while another run of the account is in flight."""
    account = mail_account_get(actor=actor, account_id=account_id)  # tenant scope and settings lock
    if not account.is_active:
        raise AccountDisabled()
    _sent_test_allowed(account)
    _guard_failed_sign_ins(account)
    try:
        with transaction.atomic():
            run = DiagnosticRun.objects.create(organization_id=account.organization_id, account=account,
                                               kind=RunKind.SENT_TEST, trigger=RunTrigger.USER, requested_by=actor)
    except IntegrityError:
        raise RunInFlight() from None  # one run in flight per account, whatever its kind
    audit_record(action="diagnostic.sent_test_started", actor=actor, organization=account.organization,
                 target=account, details={"run": run.pk})
    run_enqueue(run)
    return run


def _sent_test_allowed(account: MailAccount) -> None:
    if account.protocol != "imap":
        raise SentTestNeedsImap()
    if account.auth_method != "password":
        raise SentTestNeedsPassword()  # the test signs in with the stored password only
    if account.missing_passwords:
        raise PasswordNeededFirst()  # removed by the password rule: nothing signs in until the owner enters it


def tool_port_check_start(*, actor: User, host: str, port: int) -> DiagnosticRun:
    organization = _tool_organization(actor)
    try:
        host = normalize_host(host)
    except HostError as error:
        raise InvalidInput(fields={"host": [error.message]}) from None
    allowed = sorted(allowed_ports())
    if port not in allowed:
        message = _("Only mail ports can be checked: %(ports)s.") % {"ports": ", ".join(map(str, allowed))}
        raise InvalidInput(message, fields={"port": [message]})
    run = DiagnosticRun.objects.create(organization=organization, kind=RunKind.PORT_CHECK, requested_by=actor,
                                       target={"host": host, "port": port})
    run_enqueue(run)
    return run


def tool_domain_details_start(*, actor: User, domain: str) -> DiagnosticRun:
    organization = _tool_organization(actor)
    domain = (domain or "").strip().rstrip(".")
    if "@" in domain:
        domain = domain.rpartition("@")[2]
    try:
        domain = normalize_host(domain)
    except HostError as error:
        raise InvalidInput(fields={"domain": [error.message]}) from None
    run = DiagnosticRun.objects.create(organization=organization, kind=RunKind.DOMAIN_DETAILS, requested_by=actor,
                                       target={"domain": domain})
    run_enqueue(run)
    return run


def _tool_organization(actor: User):
    if actor.organization_id is None:
        raise PermissionDenied(_("The tools run on behalf of an organization; sign in as one of its users."))
    return actor.organization


def _in_flight(account: MailAccount) -> DiagnosticRun | None:
    return DiagnosticRun.objects.filter(account=account, status__in=IN_FLIGHT).order_by("-created_at").first()


def _guard_failed_sign_ins(account: MailAccount) -> None:
    """Repeated authentication failures against one server from one organization slow down, then stop, so the
    service cannot be used to guess a password. Counted from the failed login and smtp_auth rows themselves
    (whatever the run's outcome, whichever account of the organization), for both of the account's servers: by
    the host as typed and by the address the probe connected to (another name, the IP, its ::ffff: form of the
    same server get no fresh allowance)."""
    window = timezone.now() - timedelta(seconds=settings.DIAGNOSTICS_AUTH_FAILURE_WINDOW)
    recent = DiagnosticStep.objects.filter(
        run__organization_id=account.organization_id, name__in=("login", "smtp_auth"), status="failed",
        code__in=[str(code) for code in judge.AUTH_CODES], finished_at__gte=window,
    )
    if not recent.exists():
        return  # the common case: nothing to count, and no DNS lookup in the request
    for host in {account.incoming_host, account.smtp_host}:
        same_server = Q(details__host=host)
        addresses = same_server_addresses(host, timeout=settings.DNS_TIMEOUT, nameservers=settings.DNS_NAMESERVERS)
        if addresses:
            same_server |= Q(details__ip__in=sorted(addresses))
        failures = recent.filter(same_server)
        count = failures.count()
        if count >= settings.DIAGNOSTICS_AUTH_FAILURES_STOP:
            raise TooManyFailedSignIns(extra={"retry_after": settings.DIAGNOSTICS_AUTH_FAILURE_WINDOW})
        if count >= settings.DIAGNOSTICS_AUTH_FAILURES_SLOW:
            last = failures.order_by("-finished_at").values_list("finished_at", flat=True).first()
            wait = settings.DIAGNOSTICS_AUTH_BACKOFF - (timezone.now() - last).total_seconds()
            if wait > 0:
                raise TooManyFailedSignIns(extra={"retry_after": int(wait) + 1})


# --- enqueueing ----------------------------------------------------------------------------------------------

def run_enqueue(run: DiagnosticRun) -> None:
    """Publish the run's task after commit. A dead broker marks the run `error` (never left queued) and answers
    503 queue_unavailable. The message holds the run id only: no secret travels through the broker."""
    from diagnostics.tasks import run_diagnostic  # tasks import this module

    published: list[bool] = []

    def publish() -> None:
        try:
            run_diagnostic.apply_async(args=[run.pk])
            published.append(True)
        except Exception:  # kombu raises OperationalError, or OSError from the socket
            logger.warning("broker unreachable: diagnostic run %s recorded as error", run.pk, exc_info=True)
            run_mark_error(run_id=run.pk, outcome="queue_unavailable")
            published.append(False)

    transaction.on_commit(publish)
    if published == [False]:
        raise QueueUnavailable()


# --- what a finished run changes -------------------------------------------------------------------------------

def account_status_after_run(*, run: DiagnosticRun) -> None:
    rows = list(run.steps.values_list("name", "status", "code"))
    status = judge.account_status_for(run_status=run.status, rows=rows)
    if status is None:
        return
    error_code = "" if run.outcome in ("", "ok") else run.outcome
    checked_at = run.started_at or run.created_at
    previous = account_status_locked(account_id=run.account_id)
    if mail_account_record_check(account=run.account, status=status, error_code=error_code, checked_at=checked_at):
        # The status as recorded: an account waiting for its password keeps waiting (no "recovered" for it).
        health_after_check(account=run.account, previous_status=previous, status=run.account.status,
                           outcome=error_code, checked_at=checked_at, run_id=run.pk)


def run_finished_record(*, run: DiagnosticRun) -> None:
    """Audit a finished run when the organization has a webhook endpoint listening for `run.finished`: the
    periodic re-check of every account would otherwise fill the trail with events nobody reads."""
    if run.kind == RunKind.ACCOUNT and run.account_id:
        account_status_after_run(run=run)
    if organization_listens(organization_id=run.organization_id, event_type=WebhookEvent.RUN_FINISHED):
        audit_record(action="diagnostic.finished", actor=None, organization=run.organization, target=run,
                     details={"run": run.pk, "kind": run.kind, "status": run.status, "outcome": run.outcome,
                              "account": run.account_id})


# --- periodic work ---------------------------------------------------------------------------------------------

def runs_sweep_stale() -> int:
    """Runs whose worker is gone: running for longer than any live worker could (the hard time limit would have
    killed it), or queued for longer than DIAGNOSTICS_QUEUED_STALE_AFTER (no worker took them). Marked error
    `worker_lost`, never left in flight forever."""
    now = timezone.now()
    running_cutoff = now - timedelta(seconds=max(settings.DIAGNOSTICS_STALE_AFTER, longest_run_seconds()))
    queued_cutoff = now - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_STALE_AFTER)
    stale = DiagnosticRun.objects.filter(
        Q(status=RunStatus.RUNNING, started_at__lt=running_cutoff)
        | Q(status=RunStatus.QUEUED, created_at__lt=queued_cutoff)
    ).values_list("pk", flat=True)
    return sum(run_mark_error(run_id=pk, outcome="worker_lost") for pk in list(stale))


def accounts_recheck_due(*, limit: int | None = None) -> int:
    """Queue a scheduled run for active accounts not checked within DIAGNOSTICS_RECHECK_INTERVAL, at most
    `limit` per call: each run is its own task, so the workers share them and many accounts finish in time
    proportional to accounts / concurrency."""
    limit = limit or settings.DIAGNOSTICS_RECHECK_BATCH
    cutoff = timezone.now() - timedelta(seconds=settings.DIAGNOSTICS_RECHECK_INTERVAL)
    # Active bindings, never-checked and longest-unchecked first (mailsettings' one definition of them).
    due = (
        mail_account_active_for_recheck()
        .exclude(last_checked_at__gte=cutoff)
        .exclude(diagnostic_runs__status__in=IN_FLIGHT)
        # A refused password is not tried again and again (providers lock accounts for that) until the
        # settings change.
        .exclude(status=AccountStatus.AUTH_FAILED, updated_at__lte=F("last_checked_at"))
        # An OAuth2 binding whose grant the provider refused waits for its owner to sign in again.
        .exclude(status=AccountStatus.REAUTH_REQUIRED)[:limit]
    )
    queued = 0
    for account in due:
        run, created = diagnostic_run_create_for_account(account=account, trigger=RunTrigger.SCHEDULE)
        if created:
            try:
                run_enqueue(run)
            except QueueUnavailable:
                break  # the broker is down: the next tick tries again
            queued += 1
    return queued

