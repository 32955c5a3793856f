"""Keep secrets out of transcripts, step details and logs.

The probes know when they send a credential and record a redacted form of that line themselves; these
functions are the second line of defence: any server line that echoes the password (or its base64 forms,
as a SASL exchange would) is masked, and client lines that carry credentials are rewritten.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

MASK = "***"
MAX_LINE_CHARS = 500


def secret_forms(*, username: str | None, password: str | None) -> list[str]:
    """Every spelling of the password that can appear on the wire: raw, IMAP-quoted, base64 (alone and
    inside a SASL PLAIN blob). Longest first, so a longer form is masked before its parts."""
    if not password:
        return []
    user = username or ""
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    forms = {
        password,
        quoted,
        _b64(password),
        _b64(f"\0{user}\0{password}"),
        _b64(f"{user}\0{user}\0{password}"),
        # An OAuth2 access token travels inside SASL XOAUTH2 / OAUTHBEARER blobs.
        _b64(f"user={user}\x01auth=Bearer {password}\x01\x01"),
        _b64(f"n,a={user},\x01auth=Bearer {password}\x01\x01"),
    }
    return sorted((f for f in forms if f), key=len, reverse=True)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


MIN_SECRET_TAIL = 3  # a kept end this long that begins a secret is masked too


def mask_secret_tail(text: str, secrets: Iterable[str]) -> str:
    """Mask the end of `text` when it is the beginning of a secret form: a password cut in half by a length
    limit, or by a server that stopped mid-line, no longer matches the whole secret."""
    longest = 0
    for secret in secrets:
        window = text[-len(secret):] if secret else ""
        for start in range(len(window) - MIN_SECRET_TAIL + 1):
            if secret.startswith(window[start:]):
                longest = max(longest, len(window) - start)
                break
    return f"{text[:-longest]}{MASK}" if longest else text


def redact_head(text: str, secrets: Iterable[str], *, limit: int) -> str:
    """The first `limit` characters of `text` as they may be stored. Masking runs over the whole text first:
    cutting first could keep the start of a password that masking no longer recognizes."""
    secrets = [s for s in secrets if s]
    return mask_secret_tail(mask_secrets(text, secrets)[:limit], secrets)


def redact_text(text: str, secrets: Iterable[str], *, limit: int = MAX_LINE_CHARS) -> str:
    """A line as it may be stored: secrets masked over the whole line, then cut to `limit` characters."""
    secrets = [s for s in secrets if s]
    masked = mask_secrets(text, secrets)
    head = mask_secret_tail(masked[:limit], secrets)
    return head if len(masked) <= limit else f"{head}… [{len(masked) - limit} more chars]"


# Client commands that carry a credential, and how much of them may be kept.
_CLIENT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # IMAP: a1 LOGIN user pass  ->  a1 LOGIN "user" ***
    (re.compile(r"^(?P<keep>\S+ LOGIN )(?P<user>\"(?:[^\"\\]|\\.)*\"|\S+)(?P<rest> .*)?$", re.I), "login"),
    # IMAP: a1 AUTHENTICATE PLAIN <initial response>
    (re.compile(r"^(?P<keep>\S+ AUTHENTICATE \S+)(?P<rest> .*)?$", re.I), "keep"),
    # POP3 / SMTP: PASS x, AUTH PLAIN x, AUTH LOGIN x, APOP user digest
    (re.compile(r"^(?P<keep>PASS)(?P<rest> .*)?$", re.I), "keep"),
    (re.compile(r"^(?P<keep>AUTH \S+)(?P<rest> .*)?$", re.I), "keep"),
    (re.compile(r"^(?P<keep>APOP \S+)(?P<rest> .*)?$", re.I), "keep"),
)


def redact_client_line(line: str) -> str:
    """The form of a client command that may be recorded: credentials replaced by ***."""
    for pattern, kind in _CLIENT_RULES:
        match = pattern.match(line)
        if not match:
            continue
        if kind == "login":
            if not match.group("rest"):
                return line
            user = match.group("user")
            if not user.startswith('"'):
                user = f'"{user}"'
            return f"{match.group('keep')}{user} {MASK}"
        return f"{match.group('keep')} {MASK}" if match.group("rest") else line
    return line

