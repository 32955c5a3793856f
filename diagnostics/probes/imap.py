"""A small IMAP4rev1 client over the bounded Channel, and the IMAP diagnostic session.

Not imaplib: its reads wait without an overall deadline and without a line limit.
Enough of the protocol for a diagnosis: greeting, CAPABILITY, STARTTLS, LOGIN / AUTHENTICATE PLAIN,
LIST (with RFC 6154 special-use), STATUS, LOGOUT.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from diagnostics.alerts import imap_alert
from diagnostics.classify import (
    Mailbox,
    classify_greeting,
    classify_imap_login,
    classify_mechanisms,
    find_inbox,
    find_sent,
    judge_folders,
)
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

MAX_FOLDERS_IN_DETAILS = 200
_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}$")


# --- wire format ---------------------------------------------------------------------------------------

def _needs_literal(value: str) -> bool:
    return any(ord(c) > 126 or ord(c) < 32 for c in value)


def quote(value: str) -> str:
    """An IMAP quoted string (RFC 3501 quoted: backslash and double quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def decode_mutf7(name: str) -> str:
    """Modified UTF-7 mailbox names (RFC 3501 5.1.3): "&MFswfjBfMIEw6w-" -> Unicode. Bad input is kept as is."""
    out: list[str] = []
    i = 0
    while i < len(name):
        if name[i] != "&":
            out.append(name[i])
            i += 1
            continue
        end = name.find("-", i)
        if end < 0:
            return name
        chunk = name[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            try:
                out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
            except ValueError:
                return name
        i = end + 1
    return "".join(out)


def tokenize(text: str) -> list:
    """Split an IMAP response into atoms, quoted strings (unescaped) and nested lists. NIL becomes None."""
    pos = 0

    def parse_list(closing: str | None) -> list:
        nonlocal pos
        items: list = []
        while pos < len(text):
            ch = text[pos]
            if ch == " ":
                pos += 1
            elif ch == "(":
                pos += 1
                items.append(parse_list(")"))
            elif ch == ")" and closing == ")":
                pos += 1
                return items
            elif ch == '"':
                pos += 1
                buf = []
                while pos < len(text) and text[pos] != '"':
                    if text[pos] == "\\" and pos + 1 < len(text):
                        pos += 1
                    buf.append(text[pos])
                    pos += 1
                pos += 1
                items.append("".join(buf))
            else:
                start = pos
                while pos < len(text) and text[pos] not in ' ()"':
                    # Keep "[...]" together (response codes, BODY[...] sections).
                    if text[pos] == "[":
                        close = text.find("]", pos)
                        pos = close if close >= 0 else len(text) - 1
                    pos += 1
                atom = text[start:pos]
                items.append(None if atom.upper() == "NIL" else atom)
        return items

    return parse_list(None)


def capabilities_from(text: str) -> set[str] | None:
    """Capabilities from "* CAPABILITY ..." or a "[CAPABILITY ...]" response code, upper-cased."""
    match = re.search(r"(?:^\* CAPABILITY |\[CAPABILITY )([^\]]*)", text, re.I)
    if not match:
        return None
    return {c.upper() for c in match.group(1).split()}


@dataclass
class Response:
    tagged: str
    untagged: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        parts = self.tagged.split(" ", 2)
        return parts[1].upper() if len(parts) > 1 else ""

    @property
    def ok(self) -> bool:
        return self.status == "OK"


class ImapClient:
    def __init__(self, channel: Channel):
        self.channel = channel
        self.counter = 0
        self.capabilities: set[str] = set()
        self.preauth = False  # "* PREAUTH": the server authenticated us already (LOGIN would be an error)

    def _next_tag(self) -> str:
        self.counter += 1
        return f"a{self.counter}"

    def read_line(self) -> str:
        """One logical response line: literals ({n}) are read and put back inline as quoted strings."""
        raw = self.channel.read_raw_line()
        shown = [raw.decode("utf-8", errors="replace")]
        while (match := _LITERAL_AT_END.search(raw)) is not None:
            data = self.channel.read_exact(int(match.group(1)))
            rest = self.channel.read_raw_line()
            escaped = data.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\r\n", b" ")
            raw = raw[: match.start()] + b'"' + escaped + b'"' + rest
            shown.append(f"[{len(data)} byte literal]{rest.decode('utf-8', errors='replace')}")
        for part in shown:
            self.channel.transcript.server(part)
        line = raw.decode("utf-8", errors="replace")
        alert = imap_alert(line)
        if alert is not None:
            self.channel.transcript.alert(alert)
        return line

    def read_greeting(self) -> str:
        greeting = self.read_line()
        self.preauth = greeting.upper().startswith("* PREAUTH")
        caps = capabilities_from(greeting)
        if caps:
            self.capabilities = caps
        return greeting

    def _read_until_tagged(self, tag: str) -> Response:
        untagged: list[str] = []
        while True:
            line = self.read_line()
            if line.startswith(f"{tag} "):
                response = Response(tagged=line, untagged=untagged)
                caps = capabilities_from(line)
                if caps and response.ok:
                    self.capabilities = caps
                return response
            if line.startswith("* "):
                caps = capabilities_from(line)
                if caps:
                    self.capabilities = caps
                untagged.append(line)
            # "+ ..." continuation requests are answered by the caller that expects them.

    def command(self, text: str, *, shown: str | None = None) -> Response:
        tag = self._next_tag()
        self.channel.send_line(f"{tag} {text}", shown=f"{tag} {shown}" if shown is not None else None)
        return self._read_until_tagged(tag)

    def _wait_continuation(self, tag: str) -> Response | None:
        """After a synchronizing literal or an empty AUTHENTICATE: None on "+", else the tagged refusal."""
        while True:
            line = self.read_line()
            if line.startswith("+"):
                return None
            if line.startswith(f"{tag} "):
                return Response(tagged=line)

    def capability(self) -> set[str]:
        response = self.command("CAPABILITY")
        return self.capabilities if response.ok else set()

    def starttls(self) -> Response:
        return self.command("STARTTLS")

    def login(self, username: str, password: str) -> Response:
        """LOGIN with quoted strings; synchronizing literals for values a quoted string cannot carry (8-bit)."""
        tag = self._next_tag()
        out, shown = f"{tag} LOGIN ".encode(), f"{tag} LOGIN "
        for index, value in enumerate((username, password)):
            display = quote(username) if index == 0 else "***"
            if index:
                out, shown = out + b" ", shown + " "
            if _needs_literal(value):
                encoded = value.encode("utf-8")
                header = f"{{{len(encoded)}}}"
                self.channel.send(out + header.encode() + b"\r\n", shown=shown + header)
                refused = self._wait_continuation(tag)
                if refused is not None:
                    return refused
                out, shown = encoded, display
            else:
                out, shown = out + quote(value).encode("utf-8"), shown + display
        self.channel.send(out + b"\r\n", shown=shown)
        return self._read_until_tagged(tag)

    def authenticate_plain(self, username: str, password: str) -> Response:
        """AUTHENTICATE PLAIN (RFC 4959 initial response when SASL-IR is offered)."""
        blob = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
        tag = self._next_tag()
        if "SASL-IR" in self.capabilities:
            self.channel.send_line(f"{tag} AUTHENTICATE PLAIN {blob}", shown=f"{tag} AUTHENTICATE PLAIN ***")
            return self._read_until_tagged(tag)
        self.channel.send_line(f"{tag} AUTHENTICATE PLAIN")
        refused = self._wait_continuation(tag)
        if refused is not None:
            return refused
        self.channel.send_line(blob, shown="***")
        return self._read_until_tagged(tag)

    def list_mailboxes(self) -> list[Mailbox]:
        special = "SPECIAL-USE" in self.capabilities
        response = self.command('LIST "" "*" RETURN (SPECIAL-USE)' if special else 'LIST "" "*"')
        if not response.ok and special:
            response = self.command('LIST "" "*"')
        mailboxes = []
        for line in response.untagged:
            if not re.match(r"^\* (X?LIST) ", line, re.I):
                continue
            tokens = tokenize(line)
            if len(tokens) < 5 or not isinstance(tokens[2], list):
                continue
            flags, delimiter, raw_name = tokens[2], tokens[3], tokens[4]
            if not isinstance(raw_name, str):
                continue
            mailboxes.append(Mailbox(
                name=decode_mutf7(raw_name),
                flags=frozenset(str(f).lower() for f in flags if isinstance(f, str)),
                delimiter=delimiter if isinstance(delimiter, str) else None,
                raw_name=raw_name,
            ))
        return mailboxes

    def message_count(self, raw_name: str) -> int | None:
        """MESSAGES from STATUS; EXAMINE's EXISTS when STATUS is refused."""
        response = self.command(f"STATUS {quote(raw_name)} (MESSAGES)")
        if response.ok:
            for line in response.untagged:
                match = re.search(r"\(.*\bMESSAGES (\d+)", line, re.I)
                if line.upper().startswith("* STATUS") and match:
                    return int(match.group(1))
        response = self.command(f"EXAMINE {quote(raw_name)}")
        if response.ok:
            for line in response.untagged:
                match = re.match(r"^\* (\d+) EXISTS", line, re.I)
                if match:
                    return int(match.group(1))
        return None

    def logout(self) -> None:
        # The server may close first; the diagnosis is already complete.
        with contextlib.suppress(TransportError, OSError):
            self.command("LOGOUT")


# --- the diagnostic session ----------------------------------------------------------------------------

def _greeting_step(rec: SessionRecorder, client: ImapClient) -> None:
    with rec.step(Step.GREETING, on_closed=(Code.SERVER_BUSY, True, "closed_before_greeting")) as step:
        greeting = client.read_greeting()
        step.details["server_line"] = rec.channel.transcript.masked(greeting)
        verdict = classify_greeting(Protocol.IMAP, greeting)
        if verdict.code != Code.OK:
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason)
        step.details["preauth"] = client.preauth
        if not client.capabilities:
            client.capability()
        step.details["capabilities"] = sorted(client.capabilities)


def _tls_step(rec: SessionRecorder, client: ImapClient, *, host: str, security: Security,
              context, reopen: Callable[[], Channel]) -> None:
    with rec.step(Step.TLS) as step:
        step.details["security"] = security
        try:
            if security == Security.STARTTLS:
                if "STARTTLS" not in client.capabilities:
                    raise ProbeError(Code.STARTTLS_UNAVAILABLE, reason="not_advertised",
                                     details={"capabilities": sorted(client.capabilities)})
                response = client.starttls()
                if not response.ok:
                    raise ProbeError(Code.STARTTLS_UNAVAILABLE, reason="refused",
                                     details={"server_line": rec.channel.transcript.masked(response.tagged)})
            step.details.update(tls.upgrade(client.channel, host=host, context=context))
            tls.flag_expiring(step, warning_days=rec.options.cert_expiry_warning_days)
        except ProbeError as exc:
            explain_tls_failure(exc, reopen=reopen, host=host, port=client.channel.port, protocol=Protocol.IMAP,
                                security=security, probe=probe_session, options=rec.options)
            raise
        if security == Security.STARTTLS:
            # Capabilities before TLS are not to be trusted (RFC 3501 6.2.1): ask again.
            client.capabilities = set()
            step.details["capabilities"] = sorted(client.capability())


def _login_step(rec: SessionRecorder, client: ImapClient, *, username: str, password: str) -> None:
    with rec.step(Step.LOGIN, on_closed=(Code.DISCONNECTED_DURING_AUTH, False, "closed_during_auth")) as step:
        step.details["username"] = username
        if client.preauth:
            step.details["method"] = "PREAUTH"
            return
        caps = client.capabilities
        if "LOGINDISABLED" in caps:
            if "AUTH=PLAIN" not in caps:
                mechanisms = sorted(c[5:] for c in caps if c.startswith("AUTH="))
                verdict = classify_mechanisms(mechanisms)
                # Only OAuth left once TLS is on (or cannot be turned on): password sign-in is off.
                if verdict.code != Code.OK and (client.channel.tls or "STARTTLS" not in caps):
                    raise ProbeError(verdict.code, reason=verdict.reason, details={"mechanisms": mechanisms})
                raise ProbeError(Code.PLAINTEXT_LOGIN_REFUSED, reason="logindisabled")
            step.details["method"] = "AUTHENTICATE PLAIN"
            response = client.authenticate_plain(username, password)
        else:
            step.details["method"] = "LOGIN"
            response = client.login(username, password)
        answer = "\n".join([response.tagged, *(u for u in response.untagged if re.match(r"^\* (NO|BAD|BYE)", u))])
        step.details["server_line"] = rec.channel.transcript.masked(response.tagged)
        verdict = classify_imap_login(answer)
        if verdict.code != Code.OK:
            raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason)
        if not capabilities_from(response.tagged):
            client.capabilities = set()
            client.capability()  # servers add capabilities after login (SPECIAL-USE, for instance)


def _folders_step(rec: SessionRecorder, client: ImapClient) -> None:
    with rec.step(Step.FOLDERS) as step:
        mailboxes = client.list_mailboxes()
        inbox = find_inbox(mailboxes)
        sent, found_by = find_sent(mailboxes)
        step.details["folder_count"] = len(mailboxes)
        step.details["folders"] = [m.name for m in mailboxes[:MAX_FOLDERS_IN_DETAILS]]
        for label, box in (("inbox", inbox), ("sent", sent)):
            if box is not None:
                step.details[label] = {"name": box.name, "messages": client.message_count(box.raw_name)}
        if sent is not None:
            step.details["sent"]["found_by"] = found_by
        verdict = judge_folders(inbox=inbox, sent=sent)
        if verdict.code != Code.OK:
            step.code = verdict.code
            step.details["reason"] = verdict.reason
            step.details["missing"] = verdict.reason.split("_and_")


def _starttls_handshake(channel: Channel) -> None:
    client = ImapClient(channel)
    client.read_greeting()
    if not client.starttls().ok:
        raise ConnectionClosed()


IMAP_STEPS = ProtocolSteps(
    protocol=Protocol.IMAP, make_client=ImapClient, starttls_handshake=_starttls_handshake, tls_step=_tls_step,
    greeting_step=_greeting_step, goodbye=ImapClient.logout,
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
    """Walk dns, port, tls, greeting, login, folders against an IMAP server and stop at the first failure.

    Step order: implicit TLS: dns, port, tls, greeting, login, folders; STARTTLS: dns, port, greeting, tls
    (capabilities asked again), login, folders; none: no tls step. login/folders run only with credentials.
    """
    if oauth_scopes is None:
        steps = [lambda rec, client: _login_step(rec, client, username=username, password=password)]
    else:  # an OAuth2 binding: `password` is its access token, signed in with XOAUTH2 / OAUTHBEARER
        steps = [lambda rec, client: xoauth2.imap_sign_in(rec, client, username=username, token=password,
                                                  scopes=oauth_scopes)]
    if check_folders:
        steps.append(_folders_step)
    return walk_session(IMAP_STEPS, host=host, port=port, security=security, username=username, password=password,
                        options=options, on_step=on_step, credential_steps=steps)
