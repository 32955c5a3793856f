"""The walk: a run's steps in order, each row written the moment it finishes, skips decided, the run judged.

The Celery task, `manage.py diagnose --inline`, and the periodic re-check all call `run_execute`; nothing else
walks steps. The run's lifecycle around the walk (claim, finish, give up) is diagnostics.lifecycle; probes
(diagnostics/probes) do the network; classify/advice/judge are pure; this module is the order.

An account run walks the steps of models.STEPS_OF_KIND. dns/port/tls/greeting cover both servers (incoming and
outgoing) in one row each: they come from one session per server without credentials. login+folders come from a
second incoming session with credentials, smtp_auth from a second outgoing one, so each of those rows is written
as soon as its server answers.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from diagnostics import judge, lifecycle, sent_test
from diagnostics.models import DiagnosticRun, DiagnosticStep, RunKind, RunStatus, StepStatus
from diagnostics.oauth.signin import for_account  # OAuth2 bindings sign in with a token
from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.dns import resolve_host
from diagnostics.probes.mail_records import add_mail_records
from diagnostics.probes.net import ProbeOptions
from diagnostics.probes.ports import check_port, check_settings
from diagnostics.results import Code, Step, StepResult
from mailsettings.addresses import Address
from mailsettings.discovery import detect
from mailsettings.ports import ALL_STANDARD_PORTS
from mailsettings.providers import mismatched_hosts, provider_saves_sent_mail
from mailsettings.vocabulary import Protocol, Security
from mailsettings.warnings import sent_copy_saver

logger = logging.getLogger(__name__)

_INCOMING = {Protocol.IMAP: imap, Protocol.POP3: pop3}


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


@dataclass
class StepWriter:
    """Writes step rows in order as they finish and tells the caller (progress lines of the CLI)."""

    run: DiagnosticRun
    on_step: Callable[[DiagnosticStep], None] | None = None
    deadline: float = 0.0
    rows: list[DiagnosticStep] = field(default_factory=list)

    def write(self, name: str, status: str, code: str = "", *, details: dict | None = None,
              duration_ms: int = 0) -> DiagnosticStep:
        row = lifecycle.step_write(self.run, position=len(self.rows) + 1, name=name, status=status, code=code,
                                   details=details, duration_ms=duration_ms)
        self._written(row)
        return row

    def _written(self, row: DiagnosticStep) -> None:
        self.rows.append(row)
        if self.on_step is not None:
            self.on_step(row)

    def write_result(self, name: str, result: StepResult) -> DiagnosticStep:
        return self.write(name, judge.status_of(result), str(result.code),
                          details=judge.step_details(result), duration_ms=result.duration_ms)

    def skip(self, name: str, *, because: str, code: str = "") -> DiagnosticStep:
        return self.write(name, StepStatus.SKIPPED, code, details={"skipped_because": because})

    def check_time(self) -> None:
        if self.deadline and time.monotonic() > self.deadline:
            raise RunTimedOut()

    def skip_rest(self, *, because: str) -> None:
        """A run stopped early still reads as a whole: the steps it did not reach are written as skipped."""
        for row in lifecycle.steps_skip_missing(self.run, because=because):
            self._written(row)


def run_execute(*, run_id: int, on_step: Callable[[DiagnosticStep], None] | None = None) -> DiagnosticRun | None:
    """Execute one run by id: claim it, walk its steps, finish it. Returns the finished run, or None when there
    was nothing to do (finished, or another executor holds it)."""
    run = lifecycle.run_claim(run_id)
    if run is None:
        return None
    writer = StepWriter(run=run, on_step=on_step, deadline=time.monotonic() + settings.DIAGNOSTICS_RUN_TIMEOUT)
    walk = {RunKind.ACCOUNT: _walk_account, RunKind.PORT_CHECK: _walk_port_check,
            RunKind.DOMAIN_DETAILS: _walk_domain_details, RunKind.SENT_TEST: _walk_sent_test}[run.kind]
    try:
        walk(run, writer)
    except (RunTimedOut, SoftTimeLimitExceeded):
        # The run's budget, or Celery's soft limit (caught before Exception: it is one), ran out.
        writer.skip_rest(because="run_time_limit")
        verdict = (RunStatus.ERROR, str(Code.TIMEOUT))
    except Exception:
        # A bug must not leave the run running forever; the traceback goes to the log, never to the user.
        logger.exception("diagnostic run %s failed unexpectedly", run.pk)
        writer.skip_rest(because="run_stopped")
        verdict = (RunStatus.ERROR, "internal_error")
    else:
        verdict = judge.judge_run([(row.status, row.code) for row in writer.rows])
    lifecycle.run_finish(run, status=verdict[0], outcome=verdict[1])
    return run


# --- account runs ------------------------------------------------------------------------------------------

def _walk_account(run: DiagnosticRun, writer: StepWriter) -> None:
    account = run.account
    options = probe_options(deadline=writer.deadline)
    incoming_security = Security(account.incoming_security)
    outgoing_security = Security(account.smtp_security)

    # 1. settings: ports and security against the protocol, both servers.
    writer.write_result(Step.SETTINGS, judge.merge(Step.SETTINGS, {
        "incoming": check_settings(protocol=account.protocol, port=account.incoming_port, security=incoming_security),
        "outgoing": check_settings(protocol=Protocol.SMTP, port=account.smtp_port, security=outgoing_security),
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

    # 10. duplicates: a copy saved by us and one saved by the provider (docs/scenarios.md, T8).
    saver = sent_copy_saver(domain_provider=provider, smtp_host=account.smtp_host)
    verdict = judge.sent_copy_verdict(save_sent_on_server=account.save_sent_on_server,
                                      provider_saves_sent=provider_saves_sent_mail(saver))
    writer.write_result(Step.DUPLICATES, verdict)


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


# --- "Send a test message" ------------------------------------------------------------------------------------

def _walk_sent_test(run: DiagnosticRun, writer: StepWriter) -> None:
    sent_test.walk(run, writer, options=probe_options(deadline=writer.deadline))


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
