"""The walk every protocol session shares: dns and port, then TLS and greeting in the order the security asks
(implicit TLS: tls, greeting; STARTTLS: greeting, tls; none: greeting), then the credential steps, then a polite
goodbye when nothing failed. Each protocol module supplies its client and its steps."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from diagnostics.probes import tls
from diagnostics.probes.net import Channel, ProbeOptions, SessionRecorder, SessionStopped, connect_steps, open_channel
from diagnostics.probes.wrong_security import implicit_tls_check
from diagnostics.redact import secret_forms
from diagnostics.results import ProbeError, SessionResult, StepResult
from mailsettings.vocabulary import Protocol, Security

CredentialStep = Callable[[SessionRecorder, Any], None]


@dataclass(frozen=True)
class ProtocolSteps:
    protocol: Protocol
    make_client: Callable[[Channel], Any]
    # On a fresh channel: read the greeting and ask for STARTTLS; raise ConnectionClosed when refused.
    starttls_handshake: Callable[[Channel], None]
    tls_step: Callable[..., None]
    greeting_step: Callable[[SessionRecorder, Any], None]
    goodbye: Callable[[Any], None]


def walk_session(
    spec: ProtocolSteps,
    *,
    host: str,
    port: int,
    security: Security | str,
    username: str | None,
    password: str | None,
    options: ProbeOptions,
    on_step: Callable[[StepResult], None] | None,
    credential_steps: Sequence[CredentialStep],
) -> SessionResult:
    """Walk the session and stop at the first failure. The TLS context is built before any step, so a bad
    ca_file raises instead of blaming the server. Credential steps run only when credentials are given."""
    security = Security(security)
    result = SessionResult(protocol=spec.protocol, host=host, port=port, security=security)
    rec = SessionRecorder(result, options=options, secrets=secret_forms(username=username, password=password),
                          on_step=on_step)
    context = tls.make_context(ca_file=options.ca_file) if security != Security.NONE else None
    client = None
    try:
        channel, addresses = connect_steps(rec, host=host, port=port)
        if security != Security.SSL:
            # A port that expects TLS from the first byte stays silent: find that out in seconds (wrong_security).
            channel.on_silence = (options.implicit_tls_after, implicit_tls_check(
                protocol=spec.protocol, host=host, port=port, addresses=addresses, options=options,
                configured=security))
        client = spec.make_client(channel)

        def reopen() -> Channel:
            # A fresh connection up to the point of the handshake, to read a failing certificate.
            fresh = open_channel(host, port, options=options, transcript=rec.new_transcript(), addresses=addresses)
            if security == Security.STARTTLS:
                spec.starttls_handshake(fresh)
            return fresh

        def tls_step() -> None:
            spec.tls_step(rec, client, host=host, security=security, context=context, reopen=reopen)

        if security == Security.SSL:
            tls_step()
            spec.greeting_step(rec, client)
        else:
            spec.greeting_step(rec, client)
            if security == Security.STARTTLS:
                tls_step()
        if username and password is not None:
            for step in credential_steps:
                step(rec, client)
    except SessionStopped:
        pass
    finally:
        if client is not None:
            if result.failed is None:
                # Past the run's deadline start_step refuses: no goodbye then, the session is complete anyway.
                with contextlib.suppress(ProbeError):
                    client.channel.start_step(rec.new_transcript(), timeout=min(2.0, options.step_timeout))
                    spec.goodbye(client)
            client.channel.close()
    return result
