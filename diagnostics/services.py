"""Writes of diagnostics: starting runs (with the guards that keep the service from being abused), enqueueing them,
and the periodic re-check. A run's life after that (claim, finish, giving up, the sweep) is diagnostics.lifecycle."""
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
from diagnostics import judge, lifecycle
from diagnostics.errors import (
    AccountDisabled,
    PasswordNeededFirst,
    QueueUnavailable,
    RunInFlight,
    SentTestNeedsImap,
    SentTestNeedsPassword,
    TooManyFailedSignIns,
)
from diagnostics.models import IN_FLIGHT, DiagnosticRun, DiagnosticStep, RunKind, RunTrigger
from diagnostics.probes.dns import same_server_addresses
from diagnostics.walk import allowed_ports
from mailsettings.hosts import HostError, normalize_host
from mailsettings.models import AccountStatus, MailAccount
from mailsettings.selectors import mail_account_active_for_recheck, mail_account_get

logger = logging.getLogger(__name__)


# --- starting runs ---------------------------------------------------------------------------------------------

def diagnostic_run_start(*, actor: User, account_id: int) -> tuple[DiagnosticRun, bool]:
    """A user asks to check an account. Returns (run, created): a run already in flight is returned as it is,
    unless no worker ever took it (lifecycle.run_recover_untaken): then it is published again, or replaced."""
    account = mail_account_get(actor=actor, account_id=account_id)  # tenant scope and settings lock
    if not account.is_active:
        raise AccountDisabled()
    in_flight = _in_flight(account)
    if in_flight is not None:
        in_flight = lifecycle.run_recover_untaken(in_flight)
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
        run__organization_id=account.organization_id, name__in=judge.SIGN_IN_STEPS, status="failed",
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
    """Publish the run's task now and return once the broker has it. A dead broker marks the run `error`
    (never left queued) and raises QueueUnavailable (503 queue_unavailable).

    Call it after the run's row is committed, outside any atomic() block: inside one, a worker could look for the
    run before it exists, and a failed publish could not be reported. The durable block makes Django refuse
    (RuntimeError) instead of letting that pass silently; the transactions of Django's TestCase are exempt, and
    publish then waits for their commit, as before any other commit."""
    outcome: list[bool] = []
    with transaction.atomic(durable=True):
        transaction.on_commit(lambda: outcome.append(lifecycle.run_publish(run_id=run.pk)))
    if outcome == [False]:
        lifecycle.run_mark_error(run_id=run.pk, outcome="queue_unavailable")
        raise QueueUnavailable()


# --- periodic work ---------------------------------------------------------------------------------------------

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

