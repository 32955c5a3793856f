"""A small ESMTP client over the bounded Channel, and the SMTP diagnostic session.

Not smtplib: its reads have no overall deadline. Enough for a diagnosis: greeting, EHLO, STARTTLS,
AUTH PLAIN / LOGIN, QUIT. No mail is ever sent.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import re
from collections.abc import Callable

from diagnostics.classify import classify_greeting, classify_mechanisms, classify_smtp_auth
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
from diagnostics.results import Code, ProbeError, SessionResult, Step, StepResult
from mailsettings.vocabulary import Protocol, Security

MAX_REPLY_LINES = 100
_REPLY_LINE = re.compile(r"^(\d{3})([ -]|$)")


class SmtpClient:
    def __init__(self, channel: Channel, *, helo_name: str | None):
        self.channel = channel
        self.helo_name = helo_name
        self.extensions: dict[str, str] = {}

    def read_reply(self) -> list[str]:
        """All lines of one reply ("250-..." continues, "250 ..." ends). A line that is not a reply line
        ends the reply too: the caller sees it and decides (a greeting from another protocol)."""
        lines: list[str] = []
        for _ in range(MAX_REPLY_LINES):
            line = self.channel.readline()
            lines.append(line)
            match = _REPLY_LINE.match(line)
            if match is None or match.group(2) != "-":
                return lines
        return lines

    def command(self, line: str, *, shown: str | None = None) -> list[str]:
        self.channel.send_line(line, shown=shown)
        return self.read_reply()

    def _ehlo_name(self) -> str:
        if self.helo_name:
            return self.helo_name
        # An address literal of our side of the connection is always a valid EHLO argument (RFC 5321 4.1.3).
        local = ipaddress.ip_address(self.channel.sock.getsockname()[0])
        return f"[IPv6:{local}]" if local.version == 6 else f"[{local}]"

    def ehlo(self) -> list[str]:
        reply = self.command(f"EHLO {self._ehlo_name()}")
        self.extensions = {}
        if reply and reply[0].startswith("250"):
            for line in reply[1:]:
                words = line[4:].split(None, 1)
                if words:
                    self.extensions[words[0].upper()] = words[1] if len(words) > 1 else ""
        return reply

    def auth_mechanisms(self) -> set[str]:
        mechs = set(self.extensions.get("AUTH", "").upper().split())
        for key in self.extensions:  # old servers: "250-AUTH=PLAIN LOGIN"
            if key.startswith("AUTH="):
                mechs.update(key[5:].split())
                mechs.update(self.extensions[key].upper().split())
        return mechs

    def quit(self) -> None:
        with contextlib.suppress(TransportError, OSError):
            self.command("QUIT")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _greeting_step(rec: SessionRecorder, client: SmtpClient) -> None:
    with rec.step(Step.GREETING, on_closed=(Code.SERVER_BUSY, True, "closed_before_greeting")) as step:
        reply = client.read_reply()
        step.details["server_line"] = rec.channel.transcript.masked(reply[0])
        verdict = classify_greeting(Protocol.SMTP, reply[0])
        if verdict.code != Code.OK:
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason)
        answer = client.ehlo()
        if not answer or not answer[0].startswith("250"):
            raise ProbeError(Code.SERVER_BUSY, transient=answer[0].startswith("4") if answer else True,
                             reason="ehlo_refused", details={"ehlo_line": rec.channel.transcript.masked(answer[0])})
        step.details["extensions"] = sorted(client.extensions)


def _tls_step(rec: SessionRecorder, client: SmtpClient, *, host: str, security: Security, context,
              reopen: Callable[[], Channel]) -> None:
    with rec.step(Step.TLS) as step:
        step.details["security"] = security
        try:
            if security == Security.STARTTLS:
                if "STARTTLS" not in client.extensions:
                    raise ProbeError(Code.STARTTLS_UNAVAILABLE, reason="not_advertised",
                                     details={"extensions": sorted(client.extensions)})
                answer = client.command("STARTTLS")
                if not answer[0].startswith("220"):
                    raise ProbeError(Code.STARTTLS_UNAVAILABLE, reason="refused",
                                     details={"server_line": rec.channel.transcript.masked(answer[0])})
            step.details.update(tls.upgrade(client.channel, host=host, context=context))
            tls.flag_expiring(step, warning_days=rec.options.cert_expiry_warning_days)
        except ProbeError as exc:
            explain_tls_failure(exc, reopen=reopen, host=host, port=client.channel.port, protocol=Protocol.SMTP,
                                security=security, probe=probe_session, options=rec.options)
            raise
        if security == Security.STARTTLS:
            client.ehlo()  # extensions before TLS are not to be trusted (RFC 3207 4.2)
            step.details["extensions"] = sorted(client.extensions)


def _auth_step(rec: SessionRecorder, client: SmtpClient, *, username: str, password: str) -> None:
    with rec.step(Step.SMTP_AUTH, on_closed=(Code.DISCONNECTED_DURING_AUTH, False, "closed_during_auth")) as step:
        step.details["username"] = username
        mechs = client.auth_mechanisms()
        step.details["mechanisms"] = sorted(mechs)
        if not mechs:
            if not client.channel.tls and "STARTTLS" in client.extensions:
                raise ProbeError(Code.PLAINTEXT_LOGIN_REFUSED, reason="auth_only_after_starttls")
            raise ProbeError(Code.SMTP_AUTH_FAILED, reason="auth_not_offered")
        offered = classify_mechanisms(mechs)
        if offered.code != Code.OK:
            # Only OAuth: a password would be refused, so none is sent. Before TLS the list may still grow.
            if not client.channel.tls and "STARTTLS" in client.extensions:
                raise ProbeError(Code.PLAINTEXT_LOGIN_REFUSED, reason="auth_only_after_starttls")
            raise ProbeError(offered.code, reason=offered.reason, details={"mechanisms": sorted(mechs)})
        if "PLAIN" in mechs or "LOGIN" not in mechs:
            step.details["method"] = "AUTH PLAIN"
            blob = _b64("\0" + username + "\0" + password)
            reply = client.command(f"AUTH PLAIN {blob}", shown="AUTH PLAIN ***")
        else:
            step.details["method"] = "AUTH LOGIN"
            reply = client.command("AUTH LOGIN")
            if reply[-1].startswith("334"):
                reply = client.command(_b64(username), shown=f"(user name {username})")
            if reply[-1].startswith("334"):
                reply = client.command(_b64(password), shown="***")
        text = "\n".join(reply)
        step.details["server_line"] = rec.channel.transcript.masked(text)
        verdict = classify_smtp_auth(text)
        if verdict.code != Code.OK:
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason)


def _make_client(channel: Channel) -> SmtpClient:
    return SmtpClient(channel, helo_name=channel.options.helo_name)


def _starttls_handshake(channel: Channel) -> None:
    client = _make_client(channel)
    client.read_reply()
    client.ehlo()
    if not client.command("STARTTLS")[0].startswith("220"):
        raise ConnectionClosed()


SMTP_STEPS = ProtocolSteps(
    protocol=Protocol.SMTP, make_client=_make_client, starttls_handshake=_starttls_handshake, tls_step=_tls_step,
    greeting_step=_greeting_step, goodbye=SmtpClient.quit,
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
    oauth_scopes: list[str] | None = None,
) -> SessionResult:
    """Walk dns, port, tls, greeting (banner + EHLO), smtp_auth against an SMTP server. Sends no mail.

    Order: implicit TLS: dns, port, tls, greeting, smtp_auth; STARTTLS: dns, port, greeting, tls (EHLO
    again), smtp_auth; none: no tls step. smtp_auth runs only with credentials.
    """
    if oauth_scopes is None:
        steps = [lambda rec, client: _auth_step(rec, client, username=username, password=password)]
    else:  # an OAuth2 binding: `password` is its access token, signed in with XOAUTH2 / OAUTHBEARER
        steps = [lambda rec, client: xoauth2.smtp_sign_in(rec, client, username=username, token=password,
                                                  scopes=oauth_scopes)]
    return walk_session(SMTP_STEPS, host=host, port=port, security=security, username=username, password=password,
                        options=options, on_step=on_step, credential_steps=steps)
