"""Telling a wrong security setting apart from a slow or broken server, with the facts and the fix as data.

- STARTTLS or no encryption configured against a port that speaks TLS from the first byte (993, 995, 465): the
  server waits silently for a TLS handshake that never comes, and the greeting step would wait its whole limit and
  end as `timeout`. When no greeting arrives within a short wait, a TLS handshake is tried on a fresh connection
  (through the same guarded connect); if it succeeds, the port expects implicit TLS: `implicit_tls_expected`, at
  once. A server silent both ways is left to its greeting limit (`timeout`), as before.
- The reverse, SSL/TLS configured against a port that greets in plain text (143, 110, 587): the handshake meets
  that greeting (`tls_handshake_failed`, reason `server_not_tls`, found at once). A plain session with STARTTLS on a
  fresh connection says what the port does speak: the fix to STARTTLS is offered only when that upgrade fully
  worked; a plain greeting of another protocol makes it `wrong_protocol` (the port is wrong, not the security).

A fix is a plain dict of account field -> value (the model's values: "ssl", "starttls"), ready to be applied.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

from diagnostics.classify import classify_greeting
from diagnostics.probes import tls
from diagnostics.probes.net import Channel, IPAddress, ProbeOptions, TransportError, open_channel
from diagnostics.results import Code, ProbeError, SessionResult, Step, StepResult
from mailsettings.vocabulary import Protocol, Security

_SECURITY_FIELD = {Protocol.IMAP: "incoming_security", Protocol.POP3: "incoming_security",
                   Protocol.SMTP: "smtp_security"}
TLS_GREETING_WAIT = 1.0  # seconds for a greeting after the sniffing handshake: it comes at once or not at all
PLAIN_STEP_LIMIT = 5.0  # seconds per step of the plain look at a port that answered TLS in plain text


def security_fix(protocol: Protocol | str, security: Security | str) -> dict[str, str]:
    """The account change that gives this protocol's server `security`, e.g. {"incoming_security": "ssl"}."""
    return {_SECURITY_FIELD[Protocol(protocol)]: str(Security(security))}


# --- implicit TLS where STARTTLS or nothing was configured ---------------------------------------------------

def implicit_tls_check(*, protocol: Protocol, host: str, port: int, addresses: list[IPAddress],
                       options: ProbeOptions, configured: Security) -> Callable[[Channel], None]:
    """What a plain channel calls when its server stayed silent for `options.implicit_tls_after` seconds (see
    Channel.on_silence): raises ProbeError(implicit_tls_expected) when a TLS handshake works on a fresh connection,
    else returns and the greeting keeps being waited for."""

    def check(silent: Channel) -> None:
        transcript = silent.transcript
        transcript.note(f"no greeting within {options.implicit_tls_after:g} s: trying TLS on a new connection")
        # The try is part of the greeting step: it ends by the step's deadline too.
        within_step = dataclasses.replace(options, deadline=min(silent.deadline, options.deadline or silent.deadline))
        sniff: Channel | None = None
        try:
            sniff = open_channel(host, port, options=within_step, transcript=transcript, addresses=addresses)
            sniff.start_step(transcript, timeout=options.connect_timeout)
            # Unverified: the question is only whether the port speaks TLS; the tls step verifies once fixed.
            sniff.start_tls(tls.make_context(verify=False), server_hostname=tls.server_hostname(host))
        except (ProbeError, TransportError, OSError):  # ssl.SSLError is an OSError
            transcript.note("no TLS handshake either: still waiting for a greeting")
            if sniff is not None:
                sniff.close()
            return
        try:
            version = sniff.sock.version()  # type: ignore[attr-defined]
            transcript.note(f"TLS handshake succeeded ({version}): the port expects TLS from the first byte")
            greeting = _line_within(sniff, TLS_GREETING_WAIT)
        finally:
            sniff.close()
        facts = {"configured_security": str(configured), "seen": "silent_until_tls", "tls_version": version,
                 "waited_seconds": options.implicit_tls_after}
        if greeting is not None:
            facts["greeting_over_tls"] = transcript.masked(greeting)
            verdict = classify_greeting(protocol, greeting)
            if verdict.code == Code.WRONG_PROTOCOL:
                # TLS first, and then another protocol: the port is wrong, not just the security.
                raise ProbeError(Code.WRONG_PROTOCOL, reason=verdict.reason, details=facts)
        facts["fix"] = security_fix(protocol, Security.SSL)
        raise ProbeError(Code.IMPLICIT_TLS_EXPECTED, reason="tls_on_connect", details=facts)

    return check


def _line_within(channel: Channel, seconds: float) -> str | None:
    with contextlib.suppress(ProbeError, TransportError, OSError):
        channel.start_step(channel.transcript, timeout=seconds)
        return channel.readline()
    return None


# --- plain text where SSL/TLS was configured -----------------------------------------------------------------

def plain_text_facts(probe: Callable[..., SessionResult], *, protocol: Protocol, host: str, port: int,
                     options: ProbeOptions) -> dict:
    """What a port that answered a TLS handshake in plain text speaks: a STARTTLS session on a fresh connection
    (`probe` is the protocol's probe_session). The fix to STARTTLS is offered only when that upgrade verified."""
    limited = dataclasses.replace(options, step_timeout=min(options.step_timeout, PLAIN_STEP_LIMIT))
    session = probe(host=host, port=port, security=Security.STARTTLS, options=limited)
    facts: dict = {"configured_security": str(Security.SSL), "seen": "plain_text_greeting"}
    greeting = session.step(Step.GREETING)
    if greeting is None:
        return facts  # the fresh connection failed: nothing more to say
    if "server_line" in greeting.details:
        facts["plain_greeting"] = greeting.details["server_line"]
    if not _went_on(greeting):
        facts["plain_greeting_code"] = str(greeting.code)
        if greeting.code == Code.WRONG_PROTOCOL:
            facts["plain_greeting_reason"] = greeting.details.get("reason", "")
        return facts
    upgrade = session.step(Step.TLS)
    facts["starttls"] = "ok" if _went_on(upgrade) else str(upgrade.code if upgrade else Code.TIMEOUT)
    if facts["starttls"] == "ok":
        facts["fix"] = security_fix(protocol, Security.STARTTLS)
    return facts


def _went_on(step: StepResult | None) -> bool:
    """Passed, or only a warning (a server alert in the greeting, say)."""
    return step is not None and (step.ok or step.is_warning)


def explain_tls_failure(exc: ProbeError, *, reopen: Callable[[], Channel], host: str, port: int,
                        protocol: Protocol, security: Security, probe: Callable[..., SessionResult],
                        options: ProbeOptions) -> None:
    """Facts that tell a failed TLS step apart, added to the error's details: the certificate that failed
    verification, or what a plain-text port said (and the fix) when SSL/TLS was configured against it."""
    if exc.code == Code.TLS_CERTIFICATE_INVALID:
        exc.details["certificate"] = tls.unverified_certificate(reopen, host=host)
    elif exc.code == Code.TLS_HANDSHAKE_FAILED and exc.reason == "server_not_tls" and security == Security.SSL:
        exc.details.update(plain_text_facts(probe, protocol=protocol, host=host, port=port, options=options))
        if exc.details.get("plain_greeting_code") == Code.WRONG_PROTOCOL:
            # Plain text of another protocol: the port is wrong, not just the security.
            raise ProbeError(Code.WRONG_PROTOCOL, reason=exc.details["plain_greeting_reason"],
                             details=exc.details) from None
