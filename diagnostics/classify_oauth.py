"""Pure judgment of OAuth2 (XOAUTH2 / OAUTHBEARER) sign-in failures, from the JSON the server sends in its
continuation (`+ <base64>` in IMAP and POP3, `334 <base64>` in SMTP), not from the words of its final line.

Seen answers (recipe OAUTH2.md): Dovecot `{"status":"401","schemes":"bearer","scope":"mail"}` (XOAUTH2) and
`{"status":"invalid_token"}` (OAUTHBEARER); Gmail `{"status":"401"|"400","schemes":"bearer mac","scope":
"https://mail.google.com/"}`; Microsoft sends no JSON at all ("NO AUTHENTICATE failed.", "535 5.7.3").
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

from diagnostics.results import Code, Verdict

MAX_CHALLENGE_CHARS = 4096
_SCOPE_STATUSES = {"403", "insufficient_scope"}


def decode_challenge(text: str) -> dict[str, Any]:
    """The JSON inside a SASL continuation ("eyJ..."), or {} when it is none (an empty challenge, garbage)."""
    text = (text or "").strip()[:MAX_CHALLENGE_CHARS]
    if not text:
        return {}
    try:
        decoded = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=False))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(decoded, Mapping):
        return {}
    # Only the documented members, as short text: this goes into step details.
    return {key: str(decoded[key])[:200] for key in ("status", "schemes", "scope") if key in decoded}


def classify_oauth_failure(challenge: Mapping[str, Any], *, granted_scopes: Iterable[str]) -> Verdict:
    """A refused token: missing the scope the server asks for (oauth_scope_missing), else not valid (expired,
    revoked, another user's: oauth_token_invalid). The server's required scope is compared with the scopes the
    provider granted; a 403 / insufficient_scope status says so directly."""
    status = str(challenge.get("status", "")).lower()
    wanted = set(str(challenge.get("scope", "")).split())
    granted = set(granted_scopes)
    if status in _SCOPE_STATUSES or (wanted and granted and not wanted & granted):
        return Verdict(Code.OAUTH_SCOPE_MISSING, reason=status or "scope")
    return Verdict(Code.OAUTH_TOKEN_INVALID, reason=status or "refused")


def oauth_verdict(password_verdict: Verdict, challenge: Mapping[str, Any], *, granted_scopes: Iterable[str]
                  ) -> Verdict:
    """The protocol classifier's verdict on the final answer, read for a token: a transient answer (the
    authorization server unreachable: IMAP [UNAVAILABLE], SMTP 4xx) stays transient; a refusal is about the token,
    never "wrong password"."""
    if password_verdict.code == Code.OK or password_verdict.transient:
        return password_verdict
    if password_verdict.code in (Code.PLAINTEXT_LOGIN_REFUSED, Code.AUTH_WEB_LOGIN_REQUIRED):
        return password_verdict
    return classify_oauth_failure(challenge, granted_scopes=granted_scopes)
