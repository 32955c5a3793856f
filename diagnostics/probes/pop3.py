"""A small POP3 client over the bounded Channel, and the POP3 diagnostic session.

Not poplib: its reads have no overall deadline. Enough for a diagnosis: greeting, CAPA, STLS, USER/PASS,
STAT, QUIT. POP3 has one mailbox, so the "folders" step is STAT (message count and size).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from diagnostics.classify import classify_access_disabled, classify_greeting, classify_pop3_login
from diagnostics.probes import tls, xoauth2
from diagnostics.probes.net import (
    Channel,
    ConnectionClosed,
    ProbeOptions,
    SessionRecorder,
    TransportError,
)
from diagnostics.probes.session import ProtocolSteps, walk_session
from diagnostics.probes.wrong_security import explain_tls_failure
from diagnostics.results import Code, ProbeError, SessionResult, Step, StepResult, Verdict
from mailsettings.vocabulary import Protocol, Security

MAX_CAPA_LINES = 100


class Pop3Client:
    def __init__(self, channel: Channel):
        self.channel = channel
        self.capabilities: set[str] = set()

    def command(self, line: str, *, shown: str | None = None) -> str:
        self.channel.send_line(line, shown=shown)
        return self.channel.readline()

    def capa(self) -> set[str]:
        """CAPA (RFC 2449): first word of each line, upper-cased, plus "SASL <mech>" entries."""
        first = self.command("CAPA")
        caps: set[str] = set()
        if not first.startswith("+OK"):
            return caps
        for _ in range(MAX_CAPA_LINES):
            line = self.channel.readline()
            if line == ".":
                break
            words = line.upper().split()
            if words:
                caps.add(words[0])
                if words[0] == "SASL":
                    caps.update(f"SASL {w}" for w in words[1:])
        self.capabilities = caps
        return caps

    def quit(self) -> None:
        with contextlib.suppress(TransportError, OSError):
            self.command("QUIT")


def _greeting_step(rec: SessionRecorder, client: Pop3Client) -> None:
    with rec.step(Step.GREETING, on_closed=(Code.SERVER_BUSY, True, "closed_before_greeting")) as step:
        greeting = client.channel.readline()
        step.details["server_line"] = rec.channel.transcript.masked(greeting)
        verdict = classify_greeting(Protocol.POP3, greeting)
        if verdict.code != Code.OK:
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason)
        step.details["capabilities"] = sorted(client.capa())


def _tls_step(rec: SessionRecorder, client: Pop3Client, *, host: str, security: Security, context,
              reopen: Callable[[], Channel]) -> None:
    with rec.step(Step.TLS) as step:
        step.details["security"] = security
        try:
            if security == Security.STARTTLS:
                # A server without CAPA may still know STLS: only a server that lists capabilities
                # without STLS is taken at its word.
                if client.capabilities and "STLS" not in client.capabilities:
                    raise ProbeError(Code.STARTTLS_UNAVAILABLE, reason="not_advertised",
                                     details={"capabilities": sorted(client.capabilities)})
                answer = client.command("STLS")
                if not answer.startswith("+OK"):
                    raise ProbeError(Code.STARTTLS_UNAVAILABLE, reason="refused",
                                     details={"server_line": rec.channel.transcript.masked(answer)})
            step.details.update(tls.upgrade(client.channel, host=host, context=context))
            tls.flag_expiring(step, warning_days=rec.options.cert_expiry_warning_days)
        except ProbeError as exc:
            explain_tls_failure(exc, reopen=reopen, host=host, port=client.channel.port, protocol=Protocol.POP3,
                                security=security, probe=probe_session, options=rec.options)
            raise
        if security == Security.STARTTLS:
            step.details["capabilities"] = sorted(client.capa())


def _login_step(rec: SessionRecorder, client: Pop3Client, *, username: str, password: str) -> None:
    with rec.step(Step.LOGIN, on_closed=(Code.DISCONNECTED_DURING_AUTH, False, "closed_during_auth")) as step:
        step.details.update(username=username, method="USER/PASS")
        answer = client.command(f"USER {username}")
        if answer.startswith("+OK"):
            answer = client.command(f"PASS {password}", shown="PASS ***")
        step.details["server_line"] = rec.channel.transcript.masked(answer)
        verdict = classify_pop3_login(answer)
        if verdict.code != Code.OK:
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason)


def _stat_step(rec: SessionRecorder, client: Pop3Client) -> None:
    with rec.step(Step.FOLDERS) as step:
        answer = client.command("STAT")
        match = re.match(r"^\+OK (\d+) (\d+)", answer)
        if not match:
            # Gmail signs the person in, then refuses STAT when POP is off in its settings.
            verdict = classify_access_disabled(answer) or Verdict(Code.SERVER_BUSY, transient=True,
                                                                  reason="stat_refused")
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason,
                             details={"server_line": rec.channel.transcript.masked(answer)})
        step.details["inbox"] = {"name": "INBOX", "messages": int(match.group(1)), "size": int(match.group(2))}
        # POP3 only sees the inbox: there is no Sent folder to look for.
        step.details["sent"] = None
        step.details["note"] = "pop3_inbox_only"


def _starttls_handshake(channel: Channel) -> None:
    client = Pop3Client(channel)
    channel.readline()
    if not client.command("STLS").startswith("+OK"):
        raise ConnectionClosed()


POP3_STEPS = ProtocolSteps(
    protocol=Protocol.POP3, make_client=Pop3Client, starttls_handshake=_starttls_handshake, tls_step=_tls_step,
    greeting_step=_greeting_step, goodbye=Pop3Client.quit,
)


def probe_session(
    *,
    host: str,
    port: int,
    security: Security | str,
    username: str | None = None,
    password: str | None = None,
    options: ProbeOptions,
    on_step: Callable[[StepResult], None] | None = None,
    check_folders: bool = True,
    oauth_scopes: list[str] | None = None,
) -> SessionResult:
    """Walk dns, port, tls, greeting, login, folders (STAT) against a POP3 server; same order rules as IMAP."""
    if oauth_scopes is None:
        steps = [lambda rec, client: _login_step(rec, client, username=username, password=password)]
    else:  # an OAuth2 binding: `password` is its access token, signed in with XOAUTH2 / OAUTHBEARER
        steps = [lambda rec, client: xoauth2.pop3_sign_in(rec, client, username=username, token=password,
                                                  scopes=oauth_scopes)]
    if check_folders:
        steps.append(_stat_step)
    return walk_session(POP3_STEPS, host=host, port=port, security=security, username=username, password=password,
                        options=options, on_step=on_step, credential_steps=steps)
