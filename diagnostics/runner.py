"""The runner: walks a run's steps, writes each step row the moment it finishes, decides skips, judges the run.

The Celery task, `manage.py diagnose --inline`, and the periodic re-check all call `run_execute`; nothing else
walks steps. Probes (diagnostics/probes) do the network; classify/advice are pure; this module is the order.

An account run walks ten steps: settings, domain, dns, port, tls, greeting, login, folders, smtp_auth,
duplicates. dns/port/tls/greeting cover both servers (incoming and outgoing) in one row each: they come from one
session per server without credentials. login+folders come from a second incoming session with credentials,
smtp_auth from a second outgoing one, so each of those rows is written as soon as its server answers.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import override

from diagnostics import judge, sent_test
from diagnostics.models import IN_FLIGHT, DiagnosticRun, DiagnosticStep, RunKind, RunStatus, StepStatus
from diagnostics.oauth.signin import for_account  # OAuth2 bindings sign in with a token
from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.dns import resolve_host
from diagnostics.probes.mail_records import add_mail_records
from diagnostics.probes.net import ProbeOptions
from diagnostics.probes.ports import ALL_STANDARD_PORTS, check_port, check_settings
from diagnostics.probes.results import Code, Security, Step, StepResult, plain
from mailsettings.addresses import Address
from mailsettings.discovery import detect
from mailsettings.providers import mismatched_hosts, provider_saves_sent_mail
from mailsettings.warnings import sent_copy_saver

logger = logging.getLogger(__name__)

# A run re-delivered after a worker died starts again at most this many times in all.
MAX_ATTEMPTS = 2

ACCOUNT_STEPS = (
    Step.SETTINGS, Step.DOMAIN, Step.DNS, Step.PORT, Step.TLS, Step.GREETING, Step.LOGIN, Step.FOLDERS,
    Step.SMTP_AUTH, "duplicates",
)
_INCOMING = {"imap": imap, "pop3": pop3}


def allowed_ports() -> frozenset[int]:
    """The ports any run may connect to: the mail ports plus DIAGNOSTICS_EXTRA_PORTS. Account runs are held to
    them as the port-check tool is, or editing an account would make the service a general port scanner."""
    return frozenset(ALL_STANDARD_PORTS | set(settings.DIAGNOSTICS_EXTRA_PORTS))


def probe_options(*, deadline: float | None = None) -> ProbeOptions:
    """The probes' limits and policy, from settings (read at run time, so tests and operators can change them).
    `deadline` (time.monotonic()) bounds every probe operation by the run's own time budget."""
    return ProbeOptions.build(
        allowed_networks=settings.DIAGNOSTICS_ALLOWED_NETWORKS,
        allowed_ports=allowed_ports(),
        deadline=deadline,
        connect_timeout=settings.DIAGNOSTICS_CONNECT_TIMEOUT,
        step_timeout=settings.DIAGNOSTICS_STEP_TIMEOUT,
        ca_file=settings.DIAGNOSTICS_CA_FILE or None,
        nameservers=tuple(settings.DNS_NAMESERVERS),
        cert_expiry_warning_days=settings.DIAGNOSTICS_CERT_EXPIRY_WARNING_DAYS,
    )


class RunTimedOut(Exception):
    """The run's own time budget ran out between steps."""


# The rows every kind of run writes, in order: a run that stops early writes the rest as skipped.
STEPS_OF_KIND = {
    RunKind.ACCOUNT: tuple(str(step) for step in ACCOUNT_STEPS),
    RunKind.PORT_CHECK: ("dns", "port"),
    RunKind.DOMAIN_DETAILS: ("domain", "dns", "port"),
    RunKind.SENT_TEST: sent_test.STEPS,
}


@dataclass
class StepWriter:
    """Writes step rows in order as they finish and tells the caller (progress lines of the CLI)."""

    run: DiagnosticRun
    on_step: Callable[[DiagnosticStep], None] | None = None
    deadline: float = 0.0
    rows: list[DiagnosticStep] = field(default_factory=list)

    def write(self, name: str, status: str, code: str = "", *, details: dict | None = None,
              duration_ms: int = 0) -> DiagnosticStep:
        with override("en"):
            message = str(judge.step_message(name=str(name), status=status, code=code, details=details))
        row = DiagnosticStep.objects.create(
            run=self.run, position=len(self.rows) + 1, name=str(name), status=status, code=code or "",
            message=message, duration_ms=duration_ms, details=plain(details or {}),
        )
        self.rows.append(row)
        if self.on_step is not None:
            self.on_step(row)
        return row

    def write_result(self, name: str, result: StepResult) -> DiagnosticStep:
        return self.write(name, judge.status_of(result), str(result.code),
                          details=judge.step_details(result), duration_ms=result.duration_ms)

    def skip(self, name: str, *, because: str, code: str = "") -> DiagnosticStep:
        return self.write(name, StepStatus.SKIPPED, code, details={"skipped_because": because})

    def check_time(self) -> None:
        if self.deadline and time.monotonic() > self.deadline:
            raise RunTimedOut()

    def skip_rest(self, kind: str, *, because: str) -> None:
        """A run stopped early still reads as a whole: the steps it did not reach are written as skipped."""
        written = {row.name for row in self.rows}
        for name in STEPS_OF_KIND[kind]:
            if name not in written:
                self.skip(name, because=because)


# --- claiming and finishing --------------------------------------------------------------------------------

def longest_run_seconds() -> float:
    """No live worker can still be executing a run started longer ago than this: the hard time limit kills it."""
    return settings.DIAGNOSTICS_RUN_TIMEOUT + 30 + 30


def _claim(run_id: int) -> DiagnosticRun | None:
    """Move a queued (or re-delivered running) run to running; None when it is finished, gave up, or is being
    executed by someone else right now."""
    with transaction.atomic():
        run = DiagnosticRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in IN_FLIGHT:
            # Return early, without touching the row, if the run already finished: tasks are idempotent.
            return None
        if run.status == RunStatus.RUNNING:
            started = run.started_at or run.created_at
            if (timezone.now() - started).total_seconds() < longest_run_seconds():
                return None  # another executor may still be walking it: never two writers on one run
            if run.attempts >= MAX_ATTEMPTS:
                _finish(run, status=RunStatus.ERROR, outcome="worker_lost")
                return None
            # Its worker died mid-run (acks_late re-delivered it): start over from a clean slate.
            run.steps.all().delete()
        DiagnosticRun.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
        )
    run.refresh_from_db()
    return run


def _finish(run: DiagnosticRun, *, status: str, outcome: str) -> bool:
    """Finish a run that is still in flight. False when something else (the sweep) finished it meanwhile: its
    verdict stands, and nothing is written over it."""
    finished_at = timezone.now()
    updated = DiagnosticRun.objects.filter(pk=run.pk, status__in=IN_FLIGHT).update(
        status=status, outcome=outcome, finished_at=finished_at
    )
    if updated:
        run.status, run.outcome, run.finished_at = status, outcome, finished_at
    return bool(updated)


def run_mark_error(*, run_id: int, outcome: str) -> bool:
    """Mark an unfinished run as error (lost worker, dead broker). False if it had finished. The account keeps its
    status: a run that could not finish says nothing about it."""
    updated = DiagnosticRun.objects.filter(pk=run_id, status__in=IN_FLIGHT).update(
        status=RunStatus.ERROR, outcome=outcome, finished_at=timezone.now()
    )
    return bool(updated)


def run_execute(*, run_id: int, on_step: Callable[[DiagnosticStep], None] | None = None) -> DiagnosticRun | None:
    """Execute one run by id. Returns the finished run, or None when there was nothing to do."""
    run = _claim(run_id)
    if run is None:
        return None
    writer = StepWriter(run=run, on_step=on_step, deadline=time.monotonic() + settings.DIAGNOSTICS_RUN_TIMEOUT)
    walk = {RunKind.ACCOUNT: _walk_account, RunKind.PORT_CHECK: _walk_port_check,
            RunKind.DOMAIN_DETAILS: _walk_domain_details, RunKind.SENT_TEST: sent_test.walk}[run.kind]
    try:
        walk(run, writer)
    except (RunTimedOut, SoftTimeLimitExceeded):
        # The run's budget, or Celery's soft limit (caught before Exception: it is one), ran out.
        writer.skip_rest(run.kind, because="run_time_limit")
        verdict = (RunStatus.ERROR, str(Code.TIMEOUT))
    except Exception:
        # A bug must not leave the run running forever; the traceback goes to the log, never to the user.
        logger.exception("diagnostic run %s failed unexpectedly", run.pk)
        writer.skip_rest(run.kind, because="run_stopped")
        verdict = (RunStatus.ERROR, "internal_error")
    else:
        verdict = judge.judge_run([(row.status, row.code) for row in writer.rows])
    # The run's verdict and the account status it implies are one change: nobody reads a finished run beside an
    # account that does not show it yet.
    with transaction.atomic():
        if _finish(run, status=verdict[0], outcome=verdict[1]):
            _after_run(run)
    return run


def _after_run(run: DiagnosticRun) -> None:
    from diagnostics.services import run_finished_record

    run_finished_record(run=run)


# --- account runs ------------------------------------------------------------------------------------------

def _walk_account(run: DiagnosticRun, writer: StepWriter) -> None:
    account = run.account
    options = probe_options(deadline=writer.deadline)
    incoming_security = Security(account.incoming_security)  # the model's "ssl" is implicit TLS
    outgoing_security = Security(account.smtp_security)

    # 1. settings: ports and security against the protocol, both servers.
    writer.write_result(Step.SETTINGS, judge.merge(Step.SETTINGS, {
        "incoming": check_settings(protocol=account.protocol, port=account.incoming_port, security=incoming_security),
        "outgoing": check_settings(protocol="smtp", port=account.smtp_port, security=outgoing_security),
    }))

    # 2. domain: who serves the address's domain, and do the configured hosts belong to it?
    writer.check_time()
    provider = _domain_step(writer, account)

    # 3-6. dns, port, tls, greeting of both servers, from one session each without credentials.
    writer.check_time()
    incoming = _INCOMING[account.protocol].probe_session(
        host=account.incoming_host, port=account.incoming_port, security=incoming_security, options=options
    )
    writer.check_time()
    outgoing = smtp.probe_session(
        host=account.smtp_host, port=account.smtp_port, security=outgoing_security, options=options
    )
    sides = {"incoming": incoming, "outgoing": outgoing}
    for name in (Step.DNS, Step.PORT, Step.TLS, Step.GREETING):
        merged = judge.merge_sessions(name, sides)
        if merged is None:
            writer.skip(name, because="an_earlier_step_failed")
        else:
            writer.write_result(name, merged)
    reached = {side: session.failed is None for side, session in sides.items()}

    # 7-8. login and folders on the incoming server. A password cleared by the password rule is not tried.
    writer.check_time()
    if "incoming" in account.missing_passwords:
        writer.skip(Step.LOGIN, because=Code.PASSWORD_NEEDED, code=Code.PASSWORD_NEEDED)
        writer.skip(Step.FOLDERS, because=Code.PASSWORD_NEEDED)
    elif reached["incoming"]:
        _credentials_session(
            writer, module=for_account(account, _INCOMING[account.protocol]), wanted=(Step.LOGIN, Step.FOLDERS),
            host=account.incoming_host,
            port=account.incoming_port, security=incoming_security, username=account.incoming_username,
            password=account.incoming_password, options=options,
        )
    else:
        writer.skip(Step.LOGIN, because="incoming_server_unreachable")
        writer.skip(Step.FOLDERS, because="incoming_server_unreachable")

    # 9. smtp_auth on the outgoing server.
    writer.check_time()
    if "outgoing" in account.missing_passwords:
        writer.skip(Step.SMTP_AUTH, because=Code.PASSWORD_NEEDED, code=Code.PASSWORD_NEEDED)
    elif reached["outgoing"]:
        _credentials_session(
            writer, module=for_account(account, smtp), wanted=(Step.SMTP_AUTH,), host=account.smtp_host,
            port=account.smtp_port,
            security=outgoing_security, username=account.effective_smtp_username,
            password=account.effective_smtp_password, options=options,
        )
    else:
        writer.skip(Step.SMTP_AUTH, because="outgoing_server_unreachable")

    # 10. duplicates: a copy saved by us and one saved by the provider (T8).
    saver = sent_copy_saver(domain_provider=provider, smtp_host=account.smtp_host)
    verdict = judge.sent_copy_verdict(save_sent_on_server=account.save_sent_on_server,
                                      provider_saves_sent=provider_saves_sent_mail(saver))
    writer.write_result("duplicates", verdict)


def _detect(writer: StepWriter, address: Address, *, protocol: str = "imap"):
    """The same detection as the settings page's, without probing (the run probes the configured servers itself),
    within the discovery's deadline and the run's own."""
    deadline = min(time.monotonic() + settings.DISCOVERY_DEADLINE, writer.deadline or float("inf"))
    return detect(address, protocol=protocol, probe=False, deadline=deadline)


def _domain_step(writer: StepWriter, account) -> Any:
    started = time.monotonic()
    local, _at, domain = account.address_normalized.rpartition("@")
    detection = _detect(writer, Address(local=local, domain=domain), protocol=account.protocol)
    result = StepResult(step=Step.DOMAIN, details=detection.to_details())
    mismatched = mismatched_hosts(detection.provider, incoming_host=account.incoming_host,
                                  smtp_host=account.smtp_host)
    if mismatched:
        result.code = Code.PROVIDER_MISMATCH
        result.details["mismatched"] = mismatched
        result.details["suggested"] = {"incoming": detection.incoming, "outgoing": detection.outgoing}
    _add_mail_records(result, detection, writer)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    writer.write_result(Step.DOMAIN, result)
    return detection.provider


def _add_mail_records(result: StepResult, detection, writer: StepWriter) -> None:
    add_mail_records(result, domain=detection.domain, provider_id=detection.provider.id if detection.provider else None,
                     options=probe_options(deadline=writer.deadline), dns_timeout=settings.DNS_TIMEOUT,
                     https_port=settings.DIAGNOSTICS_MTA_STS_PORT)


def _credentials_session(writer: StepWriter, *, module, wanted: tuple[str, ...], host: str, port: int,
                         security: Security, username: str, password: str, options: ProbeOptions) -> None:
    """Run a session with credentials; write the wanted steps as they finish. If the session stops before
    reaching them (the server changed its mind since the first session), the first wanted step carries the code."""
    written: set[str] = set()

    def on_step(result: StepResult) -> None:
        if str(result.step) in wanted:
            writer.write_result(result.step, result)
            written.add(str(result.step))

    kwargs = {"check_folders": Step.FOLDERS in wanted} if module is not smtp else {}
    session = module.probe_session(host=host, port=port, security=security, username=username,
                                   password=password, options=options, on_step=on_step, **kwargs)
    failed = session.failed
    for name in wanted:
        if name in written:
            continue
        if failed is not None and failed.step not in wanted and not written:
            stopped = StepResult(step=Step(name), code=failed.code, transient=failed.transient,
                                 details={"stopped_at": str(failed.step), **judge.step_details(failed)})
            writer.write_result(name, stopped)
            written.add(name)
        else:
            writer.skip(name, because="an_earlier_step_failed")


# --- the self-service tools ----------------------------------------------------------------------------------

def _walk_port_check(run: DiagnosticRun, writer: StepWriter) -> None:
    host, port = run.target["host"], int(run.target["port"])
    options = probe_options(deadline=writer.deadline)
    dns_result = resolve_host(host, timeout=options.connect_timeout, nameservers=options.nameservers,
                              deadline=options.deadline, policy=options.policy)
    writer.write_result(Step.DNS, dns_result)
    if not dns_result.ok:
        writer.skip(Step.PORT, because="an_earlier_step_failed")
        return
    writer.check_time()
    writer.write_result(Step.PORT, check_port(host, port, options=options))


def _walk_domain_details(run: DiagnosticRun, writer: StepWriter) -> None:
    domain = run.target["domain"]
    started = time.monotonic()
    detection = _detect(writer, Address(local="", domain=domain))  # no address: templates stay as published
    result = StepResult(step=Step.DOMAIN, details=detection.to_details())
    _add_mail_records(result, detection, writer)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    writer.write_result(Step.DOMAIN, result)
    options = probe_options(deadline=writer.deadline)
    servers = {"incoming": detection.incoming, "outgoing": detection.outgoing}
    resolved = {side: resolve_host(s["host"], timeout=options.connect_timeout, nameservers=options.nameservers,
                                  deadline=options.deadline, policy=options.policy)
                for side, s in servers.items()}
    writer.write_result(Step.DNS, judge.merge(Step.DNS, resolved))
    writer.check_time()
    ports = {side: check_port(s["host"], s["port"], options=options) if resolved[side].ok else None
             for side, s in servers.items()}
    merged = judge.merge(Step.PORT, ports)
    if merged is None:
        writer.skip(Step.PORT, because="an_earlier_step_failed")
    else:
        writer.write_result(Step.PORT, merged)
