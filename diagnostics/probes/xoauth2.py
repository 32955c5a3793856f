"""SASL XOAUTH2 (Google's and Microsoft's mechanism) and OAUTHBEARER (RFC 7628) sign-in for the IMAP, POP3 and SMTP
sessions: the login / smtp_auth step of an OAuth2 binding.

Blob: base64("user=" U ^A "auth=Bearer " T ^A ^A). A refused token gets a continuation with a JSON error (IMAP and
POP3 `+ <b64>`, SMTP `334 <b64>`), which the client answers with an empty line before the final refusal: a client
that does not answer waits forever. Pitfall: in POP3 that `+ ...` line is not "+OK" (poplib takes it for success).
The blob and the token are secrets: the transcript shows "***" (diagnostics.redact masks both forms).
"""
from __future__ import annotations

import base64
import re

from diagnostics.classify import classify_imap_login, classify_pop3_login, classify_smtp_auth
from diagnostics.classify_oauth import decode_challenge, oauth_verdict
from diagnostics.probes.net import SessionRecorder
from diagnostics.results import Code, ProbeError, Step

XOAUTH2 = "XOAUTH2"
OAUTHBEARER = "OAUTHBEARER"


def xoauth2_blob(user: str, token: str) -> str:
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode("ascii")


def oauthbearer_blob(user: str, token: str) -> str:
    # RFC 7628 GS2 header with the authorization identity; host and port are optional and left out.
    return base64.b64encode(f"n,a={user},\x01auth=Bearer {token}\x01\x01".encode()).decode("ascii")


PREFERRED = (XOAUTH2, OAUTHBEARER)  # XOAUTH2 first: Google's and Microsoft's documented mechanism


def _mechanism(offered: set[str]) -> str:
    for mechanism in PREFERRED:
        if mechanism in offered:
            return mechanism
    raise ProbeError(Code.OAUTH_NOT_OFFERED, reason="not_advertised", details={"mechanisms": sorted(offered)})


def _blob(mechanism: str, user: str, token: str) -> str:
    return xoauth2_blob(user, token) if mechanism == XOAUTH2 else oauthbearer_blob(user, token)


def _refused(verdict, challenge: dict) -> None:
    if verdict.code != Code.OK:
        raise ProbeError(verdict.code, transient=verdict.transient, reason=verdict.reason,
                         details={"oauth_error": challenge} if challenge else None)


def imap_sign_in(rec: SessionRecorder, client, *, username: str, token: str, scopes: list[str]) -> None:
    """The IMAP login step with a token (AUTHENTICATE XOAUTH2, with SASL-IR when offered)."""
    with rec.step(Step.LOGIN, on_closed=(Code.DISCONNECTED_DURING_AUTH, False, "closed_during_auth")) as step:
        step.details["username"] = username
        offered = {c[5:] for c in client.capabilities if c.startswith("AUTH=")}
        mechanism = _mechanism(offered)
        step.details["method"] = f"AUTHENTICATE {mechanism}"
        blob = _blob(mechanism, username, token)
        tag = client._next_tag()
        if "SASL-IR" in client.capabilities:
            client.channel.send_line(f"{tag} AUTHENTICATE {mechanism} {blob}",
                                     shown=f"{tag} AUTHENTICATE {mechanism} ***")
        else:
            client.channel.send_line(f"{tag} AUTHENTICATE {mechanism}")
            if client._wait_continuation(tag) is None:
                client.channel.send_line(blob, shown="***")
        challenge: dict = {}
        while True:
            line = client.read_line()
            if line.startswith("+"):
                challenge = decode_challenge(line[1:])
                client.channel.send_line("")  # the empty answer that ends the exchange
                continue
            if line.startswith(f"{tag} "):
                break
        step.details["server_line"] = rec.channel.transcript.masked(line)
        _refused(oauth_verdict(classify_imap_login(line), challenge, granted_scopes=scopes), challenge)
        if not re.search(r"\[CAPABILITY ", line, re.I):
            client.capabilities = set()
            client.capability()


def pop3_sign_in(rec: SessionRecorder, client, *, username: str, token: str, scopes: list[str]) -> None:
    """The POP3 login step with a token (AUTH XOAUTH2 <initial response>, RFC 5034)."""
    with rec.step(Step.LOGIN, on_closed=(Code.DISCONNECTED_DURING_AUTH, False, "closed_during_auth")) as step:
        step.details["username"] = username
        offered = {c[5:] for c in client.capabilities if c.startswith("SASL ")}
        # A server that lists no SASL capability may still know the mechanism: try XOAUTH2 then.
        mechanism = _mechanism(offered) if offered else XOAUTH2
        step.details["method"] = f"AUTH {mechanism}"
        answer = client.command(f"AUTH {mechanism} {_blob(mechanism, username, token)}", shown=f"AUTH {mechanism} ***")
        challenge: dict = {}
        if answer.startswith("+ ") or answer == "+":
            # Not success: the JSON error, then the final -ERR after our empty line.
            challenge = decode_challenge(answer[1:])
            answer = client.command("")
        step.details["server_line"] = rec.channel.transcript.masked(answer)
        if not offered and answer.startswith("-ERR") and not challenge and "AUTH" not in answer.upper():
            raise ProbeError(Code.OAUTH_NOT_OFFERED, reason="refused_mechanism")
        _refused(oauth_verdict(classify_pop3_login(answer), challenge, granted_scopes=scopes), challenge)


def smtp_sign_in(rec: SessionRecorder, client, *, username: str, token: str, scopes: list[str]) -> None:
    """The smtp_auth step with a token (AUTH XOAUTH2 <initial response>)."""
    with rec.step(Step.SMTP_AUTH, on_closed=(Code.DISCONNECTED_DURING_AUTH, False, "closed_during_auth")) as step:
        step.details["username"] = username
        mechs = client.auth_mechanisms()
        step.details["mechanisms"] = sorted(mechs)
        if not mechs and not client.channel.tls and "STARTTLS" in client.extensions:
            raise ProbeError(Code.PLAINTEXT_LOGIN_REFUSED, reason="auth_only_after_starttls")
        mechanism = _mechanism(mechs)
        step.details["method"] = f"AUTH {mechanism}"
        reply = client.command(f"AUTH {mechanism} {_blob(mechanism, username, token)}", shown=f"AUTH {mechanism} ***")
        challenge: dict = {}
        if reply and reply[-1].startswith("334"):
            challenge = decode_challenge(reply[-1][4:])
            reply = client.command("")
        text = "\n".join(reply)
        step.details["server_line"] = rec.channel.transcript.masked(text)
        _refused(oauth_verdict(classify_smtp_auth(text), challenge, granted_scopes=scopes), challenge)
